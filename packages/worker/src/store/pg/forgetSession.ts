import pg from 'pg';
import { migratePostgres } from './migrate.js';
import { withTransaction } from './pgSession.js';
import { sessionTables } from './schema.js';

/**
 * Removes a session's data from PostgreSQL (the session must be closed): its login only, or
 * with `purge` every row of it (polls, votes, early votes, chats, webhooks, its fence), in
 * one transaction; nothing of another session is touched.
 */
export const forgetPgSession = async (
  url: string,
  sessionId: string,
  { purge }: { purge: boolean },
): Promise<void> => {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => {});
  try {
    await migratePostgres(pool);
    const tables = purge ? [...sessionTables, 'session_fences'] : ['auth_keys', 'auth_creds'];
    await withTransaction(pool, async (client) => {
      for (const table of tables) {
        await client.query(`DELETE FROM ${table} WHERE session_id = $1`, [sessionId]);
      }
    });
  } finally {
    await pool.end();
  }
};
