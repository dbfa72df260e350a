import type pg from 'pg';
import { withTransaction } from './pgSession.js';
import { pgMigrations } from './schema.js';

/** The advisory lock that serialises migrations of nodes that start together ("pollmasters"). */
const MIGRATION_LOCK = 0x706f6c6c;

/**
 * Brings the database's schema up to date: each migration in a transaction of its own, under
 * a transaction-scoped advisory lock, and recorded in `schema_migrations` in that transaction,
 * so that two nodes starting at once apply each migration once. A schema newer than this code
 * is refused, as SQLite's is. Returns the version the database is at.
 */
export const migratePostgres = async (
  pool: pg.Pool,
  migrations = pgMigrations,
): Promise<number> => {
  for (;;) {
    const done = await withTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      // Under the lock: nodes creating it at once would collide in the catalog.
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
      );
      const { rows } = await client.query<{ v: number | null }>(
        'SELECT max(version) AS v FROM schema_migrations',
      );
      const current = rows[0]?.v ?? 0;
      if (current > migrations.length) {
        throw new Error(
          `database schema version ${current} is newer than this PollMasters (${migrations.length})`,
        );
      }
      if (current === migrations.length) return current;
      await client.query(migrations[current]!);
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [
        current + 1,
        Date.now(),
      ]);
      return undefined;
    });
    if (done !== undefined) return done;
  }
};

/** Where a database URL points, without its user or password: `host:port/database`. */
export const databaseName = (url: string): string => {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(an unparsable URL)';
  }
};
