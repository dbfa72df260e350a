import type pg from 'pg';
import { migratePostgres } from './migrate.js';
import { createPool } from './pgSession.js';

/**
 * The PostgreSQL pools of one worker thread: one per database URL (in practice one), small,
 * shared by every session the thread hosts, its schema migrated once before first use.
 */
export class PgPools {
  private readonly pools = new Map<string, { pool: pg.Pool; ready: Promise<pg.Pool> }>();

  constructor(private readonly max = 4) {}

  /** The pool for `url`, once the database's schema is up to date. */
  get(url: string): Promise<pg.Pool> {
    let entry = this.pools.get(url);
    if (!entry) {
      const pool = createPool(url, this.max);
      // An idle client's error (the server went away) must not end the thread.
      pool.on('error', () => {});
      const ready = migratePostgres(pool).then(() => pool);
      entry = { pool, ready };
      this.pools.set(url, entry);
      // A failed migration is tried again by the next session that opens.
      ready.catch(() => {
        if (this.pools.get(url) === entry) this.pools.delete(url);
        void pool.end().catch(() => {});
      });
    }
    return entry.ready;
  }

  async end(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.pool.end().catch(() => {})));
  }
}
