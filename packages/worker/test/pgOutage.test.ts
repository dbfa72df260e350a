import { randomBytes } from 'node:crypto';
import { silentLogger } from '@pollmasters/shared';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { type OwnPostgres, startOwnPostgres } from '../../../test/helpers/ownPostgres.js';
import { PgPools } from '../src/store/pg/pgPools.js';
import { openPgStore } from '../src/store/sessionStore.js';
import { ALICE, BOB, GROUP, lidGroupVote, ME, pollCreation } from './fixtures.js';
import { makePollsHarness } from './pollsHarness.js';
import type { StoreHome } from './storeEngines.js';

// "Stored, then emitted" when PostgreSQL goes away: a batch that cannot be committed is not
// announced, and is committed (then announced) with the next one once the server is back.

let server: OwnPostgres;
const pools = new PgPools(2);
beforeAll(async () => {
  server = await startOwnPostgres();
});
afterAll(async () => {
  await pools.end();
  await server.remove();
});

const secret = randomBytes(32);
const vote = (who: typeof ALICE, option: string, timestampMs: number) =>
  lidGroupVote('P', secret, who, [option], timestampMs);

const outageHome = (sessionId: string): StoreHome => ({
  engine: 'postgres',
  open: () => openPgStore(pools, server.url, { sessionId, logger: silentLogger }),
  rows: async () => 0,
  select: async () => [],
  remove: () => {},
});

const ourPoll = () =>
  pollCreation({ id: 'P', key: { remoteJid: GROUP, fromMe: true, participant: ME.lid }, secret });

it('announces no vote it could not store, and stores and announces it once the database is back', async () => {
  const h = await makePollsHarness(outageHome('outage'));
  try {
    await h.deliver(ourPoll());
    await h.deliver(vote(ALICE, 'Pizza', 1000));
    expect(h.changes().map((c) => c.voter)).toEqual([ALICE.pn]);

    await server.stop();
    await expect(h.deliver(vote(BOB, 'Salad', 2000))).rejects.toThrow();
    // Decided (in memory), but not stored: not announced.
    expect(h.changes().map((c) => c.voter)).toEqual([ALICE.pn]);

    await server.start();
    await h.deliver(vote(ALICE, 'Pasta', 3000));
    // Bob's vote first, as it happened, then Alice's change: both stored now.
    expect(h.changes().map((c) => c.voter)).toEqual([ALICE.pn, BOB.pn, ALICE.pn]);

    await h.reopen();
    expect(h.poll('P').voters.map((v) => [v.voter, v.timestampMs])).toEqual([
      [ALICE.pn, 3000],
      [BOB.pn, 2000],
    ]);
  } finally {
    await h.close();
  }
});

it('stores a batch that failed once the database is back, with no new vote to carry it, and announces it once', async () => {
  const h = await makePollsHarness(outageHome('retried'));
  try {
    await h.deliver(ourPoll());
    await server.stop();
    await expect(h.deliver(vote(BOB, 'Salad', 2000), vote(ALICE, 'Pizza', 2500))).rejects.toThrow();
    expect(h.changes()).toEqual([]);

    // Nothing else arrives: the store's timer tries again until the server answers.
    await server.start();
    await vi.waitFor(() => expect(h.changes().length).toBeGreaterThan(0), {
      timeout: 20_000,
      interval: 50,
    });
    expect(h.changes().map((c) => [c.voter, c.version])).toEqual([
      [BOB.pn, 1],
      [ALICE.pn, 2],
    ]);
    // A flush now (a close makes one) finds nothing left: nothing is announced twice.
    await h.reopen();
    expect(h.changes()).toHaveLength(2);
    expect(h.poll('P').voters.map((v) => [v.voter, v.timestampMs])).toEqual([
      [ALICE.pn, 2500],
      [BOB.pn, 2000],
    ]);
  } finally {
    await h.close();
  }
});
