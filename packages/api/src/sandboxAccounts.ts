import { DEFAULT_SESSION, PollMastersError } from '@pollmasters/shared';
import type { Logger } from 'pino';
import { startDemo } from './demo.js';
import type { SessionManager } from './session/sessionManager.js';
import type { SessionService } from './session/sessionService.js';

/** A session another node made: read the registry again to know it here. */
const existsAlready = async (err: unknown, sessions: SessionManager): Promise<void> => {
  if (PollMastersError.from(err).code !== 'CONFLICT') throw err;
  await sessions.sync();
};

/** The ids `--sessions n` runs: `default`, then `s2` ... `sn`. */
const sandboxSessionIds = (count: number): string[] =>
  Array.from({ length: count }, (_, i) => (i === 0 ? DEFAULT_SESSION : `s${i + 1}`));

export interface SandboxAccountsOptions {
  /** How many sessions run (`--sessions`). */
  count: number;
  /** `--demo`: every session gets demo polls this often. */
  demoEveryMs: number | null;
  /** The terminal: each extra session's status changes are printed there. */
  out: NodeJS.WritableStream;
  logger: Logger;
}

/**
 * `--sandbox --sessions n [--demo]`: makes sure the sessions `s2` ... `sn` exist and run (the
 * server runs `default` already), each in its own simulated world, and runs the demo on every
 * one of them. The terminal UI shows `default`; the others print one line per status change.
 * Returns the function that stops the demos and the printing (the server stops the sessions).
 */
export const runSandboxAccounts = async (
  sessions: SessionManager,
  options: SandboxAccountsOptions,
): Promise<() => void> => {
  const ids = sandboxSessionIds(options.count);
  const started = await Promise.all(
    ids.map(async (id) => {
      try {
        // Another node of a cluster may create it at the same time: that is as good.
        if (!sessions.get(id))
          await sessions.create({ id }).catch((err) => existsAlready(err, sessions));
        return (await sessions.start(id)).service;
      } catch (err) {
        // One account that cannot start does not take the others (or the server) down.
        options.logger.error({ err, sessionId: id }, 'sandbox session failed to start');
        options.out.write(`session ${id}: failed to start: ${(err as Error).message}\n`);
        return null;
      }
    }),
  );
  const services = started.filter((s): s is SessionService => s !== null);
  const stops = services.map((service) => {
    const stopPrinting =
      service.sessionId === DEFAULT_SESSION ? () => {} : printStatus(service, options.out);
    const stopDemo = options.demoEveryMs
      ? startDemo(service, {
          everyMs: options.demoEveryMs,
          logger: options.logger.child({ component: 'demo', sessionId: service.sessionId }),
        })
      : () => {};
    return () => {
      stopPrinting();
      stopDemo();
    };
  });
  return () => {
    for (const stop of stops) stop();
  };
};

/** One line per status change of a session, e.g. `session s2: ready`. */
const printStatus = (service: SessionService, out: NodeJS.WritableStream): (() => void) => {
  let last: string | null = null;
  const show = () => {
    const { status } = service.sessionState;
    if (status !== last) out.write(`session ${service.sessionId}: ${status}\n`);
    last = status;
  };
  service.on('state', show);
  show();
  return () => service.off('state', show);
};
