import { z } from 'zod';

/**
 * What the API hands a worker thread as `workerData`: what its sessions share. Each session
 * it hosts comes with its own settings in `openSession` (@pollmasters/shared SessionOpen).
 */
export const WorkerConfig = z.object({
  /** Module whose `makeWASocket` (default or named export) creates the sockets. */
  baileysModule: z.string().min(1).default('@whiskeysockets/baileys'),
  logLevel: z.string().default('info'),
  /** `auto`: votes are opened by the native addon when it is built, else by node:crypto. */
  voteCipher: z.enum(['auto', 'node']).default('auto'),
});
export type WorkerConfig = z.input<typeof WorkerConfig>;
export type ResolvedWorkerConfig = z.output<typeof WorkerConfig>;
