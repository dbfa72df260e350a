export * from './config.js';
export type * from './socket.js';

/**
 * The worker thread's entry module, for `spawnWorker`: entry.ts next to this file when running
 * from source, entry.js when running the build (scripts/build.ts).
 */
export const workerEntry = new URL(
  import.meta.url.endsWith('.ts') ? './entry.ts' : './entry.js',
  import.meta.url,
);
export * from './store/forgetLogin.js';
export * from './store/layout.js';
export * from './store/legacyDataDir.js';
export { forgetPgSession } from './store/pg/forgetSession.js';
export { databaseName, migratePostgres } from './store/pg/migrate.js';
export { createPool } from './store/pg/pgSession.js';
export * from './threadCpu.js';
export * from './webhooks/addressPolicy.js';
