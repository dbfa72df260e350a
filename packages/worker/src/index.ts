export * from './config.js';
export type * from './socket.js';

/** The worker thread's entry module, for `spawnWorker`. */
export const workerEntry = new URL('./entry.ts', import.meta.url);
