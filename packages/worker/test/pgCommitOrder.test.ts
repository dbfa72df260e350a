import type { VoteChange } from '@pollmasters/shared';
import { silentLogger } from '@pollmasters/shared';
import type pg from 'pg';
import { afterAll, expect, it, vi } from 'vitest';
import { pgTestDatabase } from '../../../test/helpers/pgTestDatabase.js';
import { PgPools } from '../src/store/pg/pgPools.js';
import { openPgStore } from '../src/store/sessionStore.js';
import { ALICE, lunchPoll as addPoll, BOB, hashes, storedVote as vote } from './fixtures.js';

// A session's vote batches commit one after another; when one fails (its connection dropped,
// the server still up), what it held must still be stored before anything newer.

const database = pgTestDatabase('pgorder');
const pools = new PgPools(2);
afterAll(() => pools.end());

/**
 * Makes the next transaction of `pool` lose its connection as it writes its votes: the
 * server ends that backend (as a dropped connection would), and the insert fails.
 */
const dropNextVoteInsert = async (url: string) => {
  const pool = await pools.get(url);
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  const spy = vi.spyOn(pool, 'connect').mockImplementationOnce((async () => {
    const client = await connect();
    // Ended between two statements, the client has no query to fail: it reports error events.
    client.on('error', () => {});
    const query = client.query.bind(client) as (text: string, values?: unknown[]) => unknown;
    client.query = (async (text: string, values?: unknown[]) => {
      if (typeof text === 'string' && text.startsWith('INSERT INTO vote_log')) {
        // With a timeout the call waits until that backend has exited.
        await database.admin.query('SELECT pg_terminate_backend($1, 5000)', [
          (client as unknown as { processID: number }).processID,
        ]);
      }
      return query(text, values);
    }) as typeof client.query;
    return client;
  }) as unknown as typeof pool.connect);
  return () => spy.mockRestore();
};

it("keeps a voter's newer vote when the batch before it fails while it waits: stored, replayed and announced in vote order, once", async () => {
  const open = () => openPgStore(pools, database.url, { sessionId: 'order', logger: silentLogger });
  const store = await open();
  await addPoll(store.polls);
  const restore = await dropNextVoteInsert(database.url);
  const announced: VoteChange[] = [];
  const announce = (changes: VoteChange[]) => announced.push(...changes);

  // Batch N: Alice's first choice, its commit in flight (and about to lose its connection).
  store.polls.applyVote('P', vote(ALICE.pn, 'Pizza', 1000), 0);
  const first = store.polls.flush() as Promise<VoteChange[]>;
  // Batch N+1, flushed while N is in flight: Alice changes her mind, Bob votes.
  store.polls.applyVote('P', vote(ALICE.pn, 'Pasta', 2000), 0);
  store.polls.applyVote('P', vote(BOB.pn, 'Salad', 3000), 0);
  const second = store.polls.flush() as Promise<VoteChange[]>;

  await expect(first).rejects.toThrow();
  restore();
  // What each flush's caller announces (nothing for the failed one), then a last flush, as
  // a session's close makes: whatever is still queued is committed and announced too.
  await second.then(announce, () => {});
  announce(await store.polls.flush());
  await store.close();

  expect(announced.map((c) => [c.voter, c.version])).toEqual([
    [ALICE.pn, 1],
    [ALICE.pn, 2],
    [BOB.pn, 3],
  ]);
  const log = await database.admin.query<{ voter: string; timestamp_ms: string }>(
    "SELECT voter, timestamp_ms FROM vote_log WHERE session_id = 'order' ORDER BY seq",
  );
  expect(log.rows.map((r) => [r.voter, Number(r.timestamp_ms)])).toEqual([
    [ALICE.pn, 1000],
    [ALICE.pn, 2000],
    [BOB.pn, 3000],
  ]);

  // A restart replays the log: Alice's newer choice is hers.
  const again = await open();
  const replayed = again.polls.get('P')!;
  expect(replayed.voters.get(ALICE.pn)?.selected).toEqual(hashes('Pasta'));
  expect(replayed.voters.get(BOB.pn)?.selected).toEqual(hashes('Salad'));
  await again.close();
});

it('commits the votes flushed while a commit is in flight in one transaction after it, each announced once, in order', async () => {
  const store = await openPgStore(pools, database.url, {
    sessionId: 'grouped',
    logger: silentLogger,
  });
  await addPoll(store.polls);
  // Every transaction takes a client of the pool: counting them counts the commits.
  const pool = await pools.get(database.url);
  const transactions = vi.spyOn(pool, 'connect');
  store.polls.applyVote('P', vote(ALICE.pn, 'Pizza', 1000), 0);
  const first = store.polls.flush();
  const behind: (readonly VoteChange[] | Promise<readonly VoteChange[]>)[] = [];
  for (let i = 0; i < 20; i++) {
    store.polls.applyVote('P', vote(`49151000000${i}@s.whatsapp.net`, 'Pasta', 2000 + i), 0);
    behind.push(store.polls.flush());
  }
  const announced = [await first, ...(await Promise.all(behind))];
  expect(transactions).toHaveBeenCalledTimes(2);
  transactions.mockRestore();
  // The first flush announces its vote, the first one behind it the other twenty; none twice.
  expect(announced.map((changes) => changes.length)).toEqual([1, 20, ...Array(19).fill(0)]);
  expect(announced[1]!.map((c) => c.version)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
  const log = await database.admin.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM vote_log WHERE session_id = 'grouped'",
  );
  expect(log.rows[0]!.n).toBe(21);
  await store.close();
});

it('retries a failed commit by itself, but not once the store is closed (a purged session stays empty)', async () => {
  const rows = async (sessionId: string) =>
    (
      await database.admin.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM vote_log WHERE session_id = $1',
        [sessionId],
      )
    ).rows[0]!.n;
  const failOnce = async (sessionId: string, close: boolean) => {
    const store = await openPgStore(pools, database.url, { sessionId, logger: silentLogger });
    await addPoll(store.polls);
    const retried: VoteChange[] = [];
    store.polls.announceRetried((changes) => retried.push(...changes));
    const restore = await dropNextVoteInsert(database.url);
    store.polls.applyVote('P', vote(ALICE.pn, 'Pizza', 1000), 0);
    await expect(store.polls.flush()).rejects.toThrow();
    restore();
    if (close) await store.close();
    return { store, retried };
  };

  // The store's timers are fake, so that "no retry" is seen at once, not after a guessed wait:
  // moved past the first retry (250 ms, +20 % at most), a pending retry has started its commit,
  // which asks the pool for a client.
  const clientsAskedPastFirstRetry = async () => {
    const connect = vi.spyOn(await pools.get(database.url), 'connect');
    try {
      await vi.advanceTimersByTimeAsync(1_000);
      return connect.mock.calls.length;
    } finally {
      connect.mockRestore();
    }
  };
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  try {
    const open = await failOnce('retry-open', false);
    expect(await clientsAskedPastFirstRetry()).toBe(1);
    await vi.waitFor(() => expect(open.retried.map((c) => c.version)).toEqual([1]), {
      timeout: 5_000,
    });
    expect(await rows('retry-open')).toBe(1);
    await open.store.close();

    await failOnce('retry-closed', true);
    expect(await clientsAskedPastFirstRetry()).toBe(0);
  } finally {
    vi.useRealTimers();
  }
  expect(await rows('retry-closed')).toBe(0);
});
