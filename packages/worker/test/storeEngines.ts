import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@pollmasters/shared';
import Database from 'better-sqlite3';
import { afterAll } from 'vitest';
import { pgTestDatabase } from '../../../test/helpers/pgTestDatabase.js';
import { dataLayout } from '../src/store/layout.js';
import { PgPools } from '../src/store/pg/pgPools.js';
import { openPgStore, openSqliteStore, type SessionStore } from '../src/store/sessionStore.js';

/** The store's engines: every store test runs on both. */
export const engines = ['sqlite', 'postgres'] as const;
export type Engine = (typeof engines)[number];

/** Where one test keeps one session's store, on its engine; opened again as after a restart. */
export interface StoreHome {
  readonly engine: Engine;
  open(): Promise<SessionStore>;
  /** How many rows of a table belong to this session (call once the writes are settled). */
  rows(table: string): Promise<number>;
  /** This session's rows of a table: the columns named, in `order`. */
  select(table: string, columns: string, order: string): Promise<Record<string, unknown>[]>;
  remove(): void;
}

/**
 * The homes of one test file on `engine`: a temp dir each on SQLite; on PostgreSQL a session
 * id each in one fresh database for the file (made before its tests, dropped after).
 */
export const storeHomes = (engine: Engine, label: string) => {
  const database = engine === 'postgres' ? pgTestDatabase(label) : undefined;
  const pools = new PgPools(2);
  afterAll(() => pools.end());
  return (): StoreHome => {
    if (engine === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), `pollmasters-${label}-`));
      return {
        engine,
        open: async () => openSqliteStore(dir),
        rows: async (table) => {
          const db = new Database(join(dir, `${dataLayout.databaseName}.sqlite`));
          try {
            return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
          } finally {
            db.close();
          }
        },
        select: async (table, columns, order) => {
          const db = new Database(join(dir, `${dataLayout.databaseName}.sqlite`));
          try {
            return db.prepare(`SELECT ${columns} FROM ${table} ORDER BY ${order}`).all() as Record<
              string,
              unknown
            >[];
          } finally {
            db.close();
          }
        },
        remove: () => rmSync(dir, { recursive: true, force: true }),
      };
    }
    const sessionId = `s-${randomBytes(4).toString('hex')}`;
    return {
      engine,
      open: () => openPgStore(pools, database!.url, { sessionId, logger: silentLogger }),
      rows: async (table) => {
        const pool = await pools.get(database!.url);
        const { rows } = await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${table} WHERE session_id = $1`,
          [sessionId],
        );
        return rows[0]!.n;
      },
      select: async (table, columns, order) => {
        const pool = await pools.get(database!.url);
        const sql = `SELECT ${columns} FROM ${table} WHERE session_id = $1 ORDER BY ${order}`;
        return (await pool.query(sql, [sessionId])).rows;
      },
      remove: () => {},
    };
  };
};
