import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MakePollSocket } from './socket.js';

/**
 * Imports `makeWASocket` (named or default export) from a package name, an absolute path or
 * a file URL: the seam through which the sandbox or a socket double replaces Baileys' socket.
 */
export const loadMakeSocket = async (spec: string): Promise<MakePollSocket> => {
  const target = isAbsolute(spec) ? pathToFileURL(spec).href : spec;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(target)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`cannot import the socket module '${spec}': ${(err as Error).message}`, {
      cause: err,
    });
  }
  const fn = [
    mod.makeWASocket,
    mod.default,
    (mod.default as Record<string, unknown> | undefined)?.makeWASocket,
    (mod.default as Record<string, unknown> | undefined)?.default,
  ].find((f) => typeof f === 'function');
  if (!fn) throw new Error(`the socket module '${spec}' exports no makeWASocket function`);
  return fn as MakePollSocket;
};
