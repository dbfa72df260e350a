import { createRequire } from 'node:module';

/** The shape of a `@hapi/boom` error, as Baileys throws and reports them. */
export interface BoomError extends Error {
  isBoom: true;
  output: {
    statusCode: number;
    payload: Record<string, unknown>;
    headers: Record<string, unknown>;
  };
  data: unknown;
}

type BoomConstructor = new (
  message: string,
  options: { statusCode: number; data?: unknown },
) => BoomError;

/*
 * `@hapi/boom` is Baileys' dependency, not ours: load the very copy Baileys uses (resolved
 * from Baileys' own location) so our errors are indistinguishable from the real ones, even for
 * `instanceof Boom`, without adding a dependency to the worker.
 */
const baileysEntry = createRequire(import.meta.url).resolve('@whiskeysockets/baileys');
const { Boom } = createRequire(baileysEntry)('@hapi/boom') as { Boom: BoomConstructor };

/** A Boom error like the ones Baileys throws or closes a connection with. */
export function boom(message: string, statusCode: number, data?: unknown): BoomError {
  return new Boom(message, { statusCode, data });
}
