import { randomBytes } from 'node:crypto';
import { silentLogger } from '@pollmasters/shared';
import { afterAll, beforeAll, expect, it } from 'vitest';
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

it('announces no vote it could not store, and stores and announces it once the database is back', async () => {
  const home: StoreHome = {
    engine: 'postgres',
    open: () => openPgStore(pools, server.url, { sessionId: 'outage', logger: silentLogger }),
    rows: async () => 0,
    select: async () => [],
    remove: () => {},
  };
  const h = await makePollsHarness(home);
  try {
    await h.deliver(
      pollCreation({
        id: 'P',
        key: { remoteJid: GROUP, fromMe: true, participant: ME.lid },
        secret,
      }),
    );
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
