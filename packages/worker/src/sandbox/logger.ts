import type { makeEventBuffer } from '@whiskeysockets/baileys';
import { pino } from 'pino';

/** Baileys' logger interface (not exported from its root); a pino logger satisfies it. */
export type Logger = Parameters<typeof makeEventBuffer>[0];

/** For when nobody passed a logger: the sandbox stays silent rather than printing. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
