import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from './database.js';
import { dataLayout } from './layout.js';

/**
 * Wipes the login (creds and signal keys) from the database of a session that no worker
 * hosts: its polls and votes stay. Rows only, as on PostgreSQL (./pg/forgetSession.ts): the
 * next worker to host it starts from fresh creds. Nothing here loads Baileys, so the API's
 * main thread, which calls this, stays free of it (about 20 MB of RSS: its protobuf and WASM
 * sources, code and instances).
 */
export const forgetLogin = (sessionDir: string): void => {
  if (!existsSync(join(sessionDir, `${dataLayout.databaseName}.sqlite`))) return;
  const db = openDatabase(sessionDir, dataLayout.databaseName);
  try {
    db.transaction(() => {
      db.prepare('DELETE FROM auth_keys').run();
      db.prepare('DELETE FROM auth_creds').run();
    })();
  } finally {
    db.close();
  }
};
