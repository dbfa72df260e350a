import { silentLogger } from '@pollmasters/shared';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { pgTestDatabase } from '../../../test/helpers/pgTestDatabase.js';
import { forgetPgSession } from '../src/store/pg/forgetSession.js';
import { migratePostgres } from '../src/store/pg/migrate.js';
import { PgPools } from '../src/store/pg/pgPools.js';
import { FencedError } from '../src/store/pg/pgSession.js';
import { pgMigrations, sessionTables } from '../src/store/pg/schema.js';
import { openPgStore } from '../src/store/sessionStore.js';
import { ALICE, lunchPoll as addPoll, BOB, storedVote as vote } from './fixtures.js';

const database = pgTestDatabase('pgstore');
const pools = new PgPools(2);
afterAll(() => pools.end());

/** A pool of the test's own (the database may be dropped under its idle clients). */
const testPool = (url: string) => {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => {});
  return pool;
};

const count = async (table: string, sessionId: string) =>
  (
    await database.admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${table} WHERE session_id = $1`,
      [sessionId],
    )
  ).rows[0]!.n;

describe('PostgreSQL migrations', () => {
  const fresh = pgTestDatabase('pgmigrate', 'test');
  // Three rounds: nodes that race into an empty database collide only now and then.
  it.each([1, 2, 3])(
    'build the schema on a fresh database once, even when four nodes start together (round %i)',
    async () => {
      const nodes = [1, 2, 3, 4].map(() => testPool(fresh.url));
      try {
        const versions = await Promise.all(nodes.map((p) => migratePostgres(p)));
        expect(versions).toEqual(nodes.map(() => pgMigrations.length));
        const applied = await nodes[0]!.query('SELECT version FROM schema_migrations ORDER BY 1');
        expect(applied.rows).toEqual(pgMigrations.map((_, i) => ({ version: i + 1 })));
        const tables = await nodes[0]!.query<{ t: string }>(
          "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
        );
        expect(tables.rows.map((r) => r.t)).toEqual(
          expect.arrayContaining([
            'polls',
            'vote_log',
            'sessions',
            'session_fences',
            'early_votes',
          ]),
        );
        // Running them again changes nothing.
        expect(await migratePostgres(nodes[1]!)).toBe(pgMigrations.length);
        const again = await nodes[0]!.query('SELECT version FROM schema_migrations ORDER BY 1');
        expect(again.rows).toEqual(applied.rows);
      } finally {
        await Promise.all(nodes.map((p) => p.end()));
      }
    },
  );

  it('refuse a schema newer than this PollMasters, changing nothing', async () => {
    const pool = testPool(fresh.url);
    try {
      await pool.query(
        'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
      );
      await pool.query('INSERT INTO schema_migrations VALUES ($1, 0)', [pgMigrations.length + 1]);
      await expect(migratePostgres(pool)).rejects.toThrow(/newer than this PollMasters/);
      const tables = await pool.query(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
      );
      expect(tables.rows).toEqual([{ tablename: 'schema_migrations' }]);
    } finally {
      await pool.end();
    }
  });
});

it('tells when a new poll is stored: whoever hears of it first (a send, its echo) waits for that', async () => {
  const store = await openPgStore(pools, database.url, {
    sessionId: 'inserting',
    logger: silentLogger,
  });
  const adding = addPoll(store.polls);
  // Known (decisions go on) before it is stored; a second add of it is refused at once.
  expect(store.polls.get('P')).toBeDefined();
  expect(addPoll(store.polls)).toBe(false);
  const stored = store.polls.whenStored('P');
  expect(stored).toBeInstanceOf(Promise);
  await stored;
  expect(await count('polls', 'inserting')).toBe(1);
  expect(await adding).toBe(true);
  expect(store.polls.whenStored('P')).toBeUndefined();
  await store.close();
});

describe('fencing', () => {
  it('refuses to open a session under an older token than the one installed', async () => {
    const store = await openPgStore(pools, database.url, {
      sessionId: 'fenced-open',
      fence: 5,
      logger: silentLogger,
    });
    await store.close();
    await expect(
      openPgStore(pools, database.url, {
        sessionId: 'fenced-open',
        fence: 4,
        logger: silentLogger,
      }),
    ).rejects.toThrow(FencedError);
    // The same or a newer token opens it.
    const same = await openPgStore(pools, database.url, {
      sessionId: 'fenced-open',
      fence: 5,
      logger: silentLogger,
    });
    await same.close();
  });

  it('stops every write of an owner whose token was superseded: nothing of it is stored', async () => {
    const fenced: FencedError[] = [];
    const old = await openPgStore(pools, database.url, {
      sessionId: 'fenced-write',
      fence: 1,
      logger: silentLogger,
      onFenced: (err) => fenced.push(err),
    });
    await addPoll(old.polls);
    old.polls.applyVote('P', vote(ALICE.pn, 'Pizza', 1000), 0);
    expect(await old.polls.flush()).toHaveLength(1);

    // A new owner takes the session over with the next token.
    const next = await openPgStore(pools, database.url, {
      sessionId: 'fenced-write',
      fence: 2,
      logger: silentLogger,
    });
    old.polls.applyVote('P', vote(BOB.pn, 'Salad', 2000), 0);
    await expect(old.polls.flush()).rejects.toThrow(/lease lost/);
    expect(fenced).toHaveLength(1);
    await expect(addPoll(old.polls, 'Q')).rejects.toThrow(FencedError);
    expect(await count('vote_log', 'fenced-write')).toBe(1);
    expect(await count('polls', 'fenced-write')).toBe(1);

    // The new owner writes on.
    next.polls.applyVote('P', vote(BOB.pn, 'Pasta', 3000), 0);
    expect(await next.polls.flush()).toHaveLength(1);
    expect(await count('vote_log', 'fenced-write')).toBe(2);
    await next.close();
  });
});

describe('forgetting a session', () => {
  const fill = async (sessionId: string) => {
    const store = await openPgStore(pools, database.url, { sessionId, logger: silentLogger });
    await addPoll(store.polls);
    store.polls.applyVote('P', vote(ALICE.pn, 'Pizza', 1000), 0);
    await store.polls.flush();
    await store.auth.saveCreds();
    await store.auth.state.keys.set({
      'pre-key': { '1': { public: Buffer.from([1]), private: Buffer.from([2]) } },
    });
    await store.close();
  };

  it('removes its login only, or with purge all of its rows, and nothing of another', async () => {
    await fill('forget-a');
    await fill('forget-b');
    await fill('keep');
    await forgetPgSession(database.admin, 'forget-a', { purge: false });
    expect(await count('auth_creds', 'forget-a')).toBe(0);
    expect(await count('auth_keys', 'forget-a')).toBe(0);
    expect(await count('vote_log', 'forget-a')).toBe(1);

    await forgetPgSession(database.admin, 'forget-b', { purge: true });
    for (const table of ['auth_creds', 'auth_keys', 'polls', 'vote_log']) {
      expect(await count(table, 'forget-b')).toBe(0);
    }
    for (const table of ['auth_creds', 'auth_keys', 'polls', 'vote_log']) {
      expect(await count(table, 'keep')).toBe(1);
    }
  });

  it("purges every table that holds a session's rows (the list is the schema's)", async () => {
    const { rows } = await database.admin.query<{ table_name: string }>(
      `SELECT DISTINCT table_name FROM information_schema.columns
       WHERE table_schema = current_schema() AND column_name = 'session_id'`,
    );
    const withSessionRows = rows.map((r) => r.table_name).sort();
    // `sessions` is the registry (the server removes the record itself).
    expect(withSessionRows).toEqual(['session_fences', ...sessionTables].sort());
  });
});
