import { randomBytes } from 'node:crypto';
import { silentLogger } from '@pollmasters/shared';
import pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { type FreshDatabase, freshDatabase } from '../../../test/helpers/services.js';
import { PgPools } from '../src/store/pg/pgPools.js';
import { openPgStore } from '../src/store/sessionStore.js';
import { GROUP, lidGroupVote, ME, pollCreation } from './fixtures.js';
import { makePollsHarness } from './pollsHarness.js';
import type { StoreHome } from './storeEngines.js';

// On PostgreSQL a session takes its next batch of live votes while the commit of the one
// before is in flight: what arrives meanwhile commits as one transaction after it. Nothing is
// announced before it is stored, every vote is announced once, in the order it came, and
// no more than the bound waits uncommitted when the database stalls.

let database: FreshDatabase;
let admin: pg.Pool;
const pools = new PgPools(2);
beforeAll(async () => {
  database = await freshDatabase('pgpipeline');
  admin = new pg.Pool({ connectionString: database.url, max: 2 });
  admin.on('error', () => {});
});
afterAll(async () => {
  await pools.end();
  await admin.end();
  await database.drop();
});

const home = (sessionId: string): StoreHome => ({
  engine: 'postgres',
  open: () => openPgStore(pools, database.url, { sessionId, logger: silentLogger }),
  rows: async () => 0,
  select: async () => [],
  remove: () => {},
});

const secret = randomBytes(32);
const voter = (i: number) => ({
  pn: `49151000${String(i).padStart(5, '0')}@s.whatsapp.net`,
  lid: `3000000${String(i).padStart(8, '0')}@lid`,
});
/** Voters 0..n-1: as stored, and as announced in the order they voted (versions 1..n). */
const votersUpTo = (n: number) => Array.from({ length: n }, (_, i) => voter(i).pn);
const announcedUpTo = (n: number) => votersUpTo(n).map((pn, i) => [pn, i + 1]);
const voteOf = (i: number) => lidGroupVote('P', secret, voter(i), ['Pizza'], 1_000 + i);
const ourPoll = () =>
  pollCreation({ id: 'P', key: { remoteJid: GROUP, fromMe: true, participant: ME.lid }, secret });

/** Holds every vote insert of the database until `release` (a stalled database). */
const stallVoteInserts = async () => {
  const client = await admin.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE vote_log IN EXCLUSIVE MODE');
  return async () => {
    await client.query('ROLLBACK');
    client.release();
  };
};

/** The vote insert waiting for the lock (a commit in flight), once it is waiting. */
const blockedInsert = async (): Promise<number> => {
  let pid: number | undefined;
  await vi.waitFor(async () => {
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database()
         AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO vote_log%'`,
    );
    expect(rows).toHaveLength(1);
    pid = rows[0]!.pid;
  });
  return pid!;
};

const sessionLog = async (sessionId: string) =>
  (
    await admin.query<{ voter: string; tx: string }>(
      'SELECT voter, xmin::text AS tx FROM vote_log WHERE session_id = $1 ORDER BY seq',
      [sessionId],
    )
  ).rows;

/** Resolves once the harness has taken every batch queued, or fails after `ms`. */
const takenWithin = (idle: Promise<void>, ms: number) =>
  Promise.race([
    idle,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('a batch waited for the commit in flight')), ms),
    ),
  ]);

it('takes the next batches while a commit is in flight, then commits them as one transaction and announces each once, in order', async () => {
  const h = await makePollsHarness(home('grouped'));
  try {
    await h.deliver(ourPoll());
    const release = await stallVoteInserts();
    for (let i = 0; i < 5; i++) h.arrive(voteOf(i));
    // Decided in memory with the first commit stalled, none announced.
    await takenWithin(h.idle(), 5_000);
    await blockedInsert();
    expect(h.poll('P').voters).toHaveLength(5);
    expect(h.changes()).toEqual([]);

    await release();
    await vi.waitFor(() => expect(h.changes()).toHaveLength(5));
    expect(h.changes().map((c) => [c.voter, c.version])).toEqual(announcedUpTo(5));
    const log = await sessionLog('grouped');
    expect(log.map((r) => r.voter)).toEqual(votersUpTo(5));
    // The first batch's transaction, then the four that arrived while it was in flight.
    expect(new Set(log.map((r) => r.tx)).size).toBe(2);
  } finally {
    await h.close();
  }
});

it('announces nothing of a commit that failed while the next batches waited, and stores and announces it with them, once, in order', async () => {
  const h = await makePollsHarness(home('failed'));
  try {
    await h.deliver(ourPoll());
    const release = await stallVoteInserts();
    for (let i = 0; i < 4; i++) h.arrive(voteOf(i));
    await takenWithin(h.idle(), 5_000);
    // The first batch's commit loses its connection (the others are queued behind it).
    await admin.query('SELECT pg_terminate_backend($1, 5000)', [await blockedInsert()]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(h.changes()).toEqual([]);

    await release();
    // The next flush (a batch, or the retry timer) takes the failed batch first.
    h.arrive(voteOf(4));
    await vi.waitFor(() => expect(h.changes()).toHaveLength(5), { timeout: 10_000 });
    expect(h.changes().map((c) => [c.voter, c.version])).toEqual(announcedUpTo(5));
    expect((await sessionLog('failed')).map((r) => r.voter)).toEqual(votersUpTo(5));
    await h.reopen();
    expect(h.poll('P').voters).toHaveLength(5);
    expect(h.changes()).toHaveLength(5);
  } finally {
    await h.close();
  }
});

it('takes no new batch while more than the bound waits uncommitted (a stalled database), and loses none', async () => {
  const h = await makePollsHarness(home('bounded'), {}, {}, 2);
  try {
    await h.deliver(ourPoll());
    const release = await stallVoteInserts();
    for (let i = 0; i < 8; i++) h.arrive(voteOf(i));
    await blockedInsert();
    // Batch 1 in flight, 2-4 queued (3 > 2: batch 4 waits for its commit); 5-8 not taken.
    await vi.waitFor(() => expect(h.poll('P').voters).toHaveLength(4));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.poll('P').voters).toHaveLength(4);
    expect(h.polls.pendingWrites).toBe(3);
    expect(h.changes()).toEqual([]);

    await release();
    await takenWithin(h.idle(), 10_000);
    await vi.waitFor(() => expect(h.changes()).toHaveLength(8));
    expect(h.changes().map((c) => [c.voter, c.version])).toEqual(announcedUpTo(8));
    expect(await sessionLog('bounded')).toHaveLength(8);
  } finally {
    await h.close();
  }
});
