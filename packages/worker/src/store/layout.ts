import { join } from 'node:path';

/**
 * Where a data dir keeps what: one folder per session (`sessions/<id>/`) with its SQLite
 * database (written only by the worker that hosts the session) and, in sandbox mode, the
 * simulated network's state; the API's registry of sessions beside them.
 */
export const dataLayout = {
  sessionsDir: (dataDir: string) => join(dataDir, 'sessions'),
  sessionDir: (dataDir: string, sessionId: string) => join(dataDir, 'sessions', sessionId),
  /** The database's name inside its session folder (openDatabase adds `.sqlite`). */
  databaseName: 'session',
  sandboxDir: (sessionDir: string) => join(sessionDir, 'sandbox'),
  registryFile: (dataDir: string) => join(dataDir, 'sessions.json'),
} as const;
