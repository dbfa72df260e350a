import type pg from 'pg';
import { withTransaction } from './pgSession.js';
import { sessionTables } from './schema.js';

/**
 * Removes a session's data from PostgreSQL (the session must be closed; the schema is the one
 * the server migrated at start): its login only, or with `purge` every row of it (polls,
 * votes, early votes, chats, webhooks, its fence), in one transaction; nothing of another
 * session is touched.
 */
export const forgetPgSession = async (
  pool: pg.Pool,
  sessionId: string,
  { purge }: { purge: boolean },
): Promise<void> => {
  const tables = purge ? [...sessionTables, 'session_fences'] : ['auth_keys', 'auth_creds'];
  await withTransaction(pool, async (client) => {
    for (const table of tables) {
      await client.query(`DELETE FROM ${table} WHERE session_id = $1`, [sessionId]);
    }
  });
};
