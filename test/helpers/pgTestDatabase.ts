import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { type FreshDatabase, freshDatabase } from './services.js';

/** A fresh PostgreSQL database of a test file (or of each test), and a pool on it. */
export interface PgTestDatabase {
  /** Its URL: read it in a test or a hook (there is none while the file is collected). */
  readonly url: string;
  /** A small pool of the test's own on it, for reading what was stored; made on first use. */
  readonly admin: pg.Pool;
}

/**
 * Makes an empty database on the test server (services.ts: from the environment, or the
 * machine's own) before the tests of the file or describe block it is called in, or before
 * each of them (`per: 'test'`), and drops it after. Its after hook is registered first, so it
 * runs last (vitest runs after hooks in reverse): whatever the caller registers after it (a
 * server stopped, a pool ended) is done before the database goes.
 */
export const pgTestDatabase = (label: string, per: 'file' | 'test' = 'file'): PgTestDatabase => {
  let database: FreshDatabase | undefined;
  let admin: pg.Pool | undefined;
  const [before, after] = per === 'file' ? [beforeAll, afterAll] : [beforeEach, afterEach];
  before(async () => {
    database = await freshDatabase(label);
  });
  after(async () => {
    await admin?.end();
    admin = undefined;
    await database?.drop();
    database = undefined;
  });
  return {
    get url() {
      if (!database) throw new Error(`pgTestDatabase(${label}): no database outside a test`);
      return database.url;
    },
    get admin() {
      if (!admin) {
        admin = new pg.Pool({ connectionString: this.url, max: 2 });
        // The database is dropped under its idle clients (WITH (FORCE)): not the test's error.
        admin.on('error', () => {});
      }
      return admin;
    },
  };
};
