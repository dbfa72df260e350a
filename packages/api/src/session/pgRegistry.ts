import { type SessionRecord, SessionRecord as SessionRecordSchema } from '@pollmasters/shared';
import { createPool, databaseName, forgetPgSession, migratePostgres } from '@pollmasters/worker';
import type { SessionRegistry } from './registry.js';

type Pool = ReturnType<typeof createPool>;

/**
 * The registry in PostgreSQL's `sessions` table: one row per record (its JSON in `record`), in
 * the order they were created (`position`). The schema is brought up to date when it opens
 * (the server's start), before any worker opens a session.
 */
export class PgSessionRegistry implements SessionRegistry {
  private readonly records = new Map<string, SessionRecord>();
  /** Changes made here; a reload that ran across one is dropped (it may predate it). */
  private writes = 0;

  private constructor(private readonly pool: Pool) {}

  static async open(url: string): Promise<PgSessionRegistry> {
    const pool = createPool(url, 2);
    // An idle client's error (the server went away) must not end the process.
    pool.on('error', () => {});
    try {
      await migratePostgres(pool);
      const registry = new PgSessionRegistry(pool);
      await registry.reload();
      return registry;
    } catch (err) {
      await pool.end().catch(() => {});
      throw new Error(
        `PostgreSQL at ${databaseName(url)} (POLLMASTERS_DATABASE_URL): ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /**
   * Reads the records again (another node may have changed them). False, and nothing
   * changed, when a change of this node's own was made while it read.
   */
  async reload(): Promise<boolean> {
    const writes = this.writes;
    const { rows } = await this.pool.query<{ id: string; record: unknown }>(
      'SELECT id, record FROM sessions ORDER BY position',
    );
    const records = new Map<string, SessionRecord>();
    for (const row of rows) {
      const parsed = SessionRecordSchema.safeParse(row.record);
      if (!parsed.success) throw new Error(`sessions row ${row.id} is not a valid session record`);
      records.set(parsed.data.id, parsed.data);
    }
    if (writes !== this.writes) return false;
    this.records.clear();
    for (const [id, record] of records) this.records.set(id, record);
    return true;
  }

  list(): SessionRecord[] {
    return [...this.records.values()];
  }

  get(id: string): SessionRecord | undefined {
    return this.records.get(id);
  }

  async put(record: SessionRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO sessions (id, position, record)
       VALUES ($1, (SELECT coalesce(max(position), 0) + 1 FROM sessions), $2)
       ON CONFLICT (id) DO UPDATE SET record = excluded.record`,
      [record.id, JSON.stringify(record)],
    );
    this.writes += 1;
    this.records.set(record.id, record);
  }

  async add(record: SessionRecord): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO sessions (id, position, record)
       VALUES ($1, (SELECT coalesce(max(position), 0) + 1 FROM sessions), $2)
       ON CONFLICT (id) DO NOTHING`,
      [record.id, JSON.stringify(record)],
    );
    this.writes += 1;
    if (rowCount === 0) return false;
    this.records.set(record.id, record);
    return true;
  }

  async remove(id: string): Promise<void> {
    await this.pool.query('DELETE FROM sessions WHERE id = $1', [id]);
    this.writes += 1;
    this.records.delete(id);
  }

  /** The session's rows of the store, in the registry's database (its pool, migrated at open). */
  forgetData(id: string, options: { purge: boolean }): Promise<void> {
    return forgetPgSession(this.pool, id, options);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
