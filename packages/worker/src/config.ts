import { PollTracking } from '@pollmasters/shared';
import { z } from 'zod';

/** What the API hands a session worker as `workerData`. */
export const WorkerConfig = z.object({
  sessionId: z.string().min(1),
  /** Folder of this session's SQLite database. */
  dataDir: z.string().min(1),
  /** Module whose `makeWASocket` (default or named export) creates the socket. */
  baileysModule: z.string().min(1).default('@whiskeysockets/baileys'),
  /** Run against the simulated WhatsApp network with these options (see ./sandbox). */
  sandbox: z.record(z.string(), z.unknown()).optional(),
  logLevel: z.string().default('info'),
  /** Whose polls this session tracks, and how it keeps votes that come before their poll. */
  tracking: PollTracking.prefault({}),
});
export type WorkerConfig = z.input<typeof WorkerConfig>;
export type ResolvedWorkerConfig = z.output<typeof WorkerConfig>;
