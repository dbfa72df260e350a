import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { useSqliteAuthState } from './authState.js';
import { openDatabase } from './database.js';
import { dataLayout } from './layout.js';

/**
 * Wipes the login (creds and signal keys) from the database of a session that no worker
 * hosts: its polls and votes stay. For deleting a session without purging its data.
 */
export const forgetLogin = (sessionDir: string): void => {
  if (!existsSync(join(sessionDir, `${dataLayout.databaseName}.sqlite`))) return;
  const db = openDatabase(sessionDir, dataLayout.databaseName);
  try {
    useSqliteAuthState(db).wipe();
  } finally {
    db.close();
  }
};
