import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshRedisPrefix, testRedisUrl } from '../../../test/helpers/services.js';
import { eventually } from '../../../test/helpers/wait.js';
import { leaseTimings } from '../src/cluster/clusterTimings.js';
import { LeaseKeeper, type LeaseLossReason } from '../src/cluster/leaseKeeper.js';
import { LeaseStore } from '../src/cluster/leaseStore.js';
import { connectRedis, type RedisConnection } from '../src/cluster/redisConnection.js';
import { freePort, silent } from './clusterHarness.js';

const logger = silent;
const space = freshRedisPrefix('cluster_leases');
const conns: RedisConnection[] = [];
const connect = async (name: string) => {
  const conn = await connectRedis({ url: testRedisUrl, prefix: space.prefix, name, logger });
  conns.push(conn);
  return conn;
};
let admin: RedisConnection;

beforeAll(async () => {
  admin = await connect('admin');
});
afterAll(async () => {
  await space.clear();
  await Promise.all(conns.map((c) => c.close()));
});

describe('connectRedis', () => {
  it('refuses a URL that is not redis:// and a bad prefix, saying what is wrong', async () => {
    await expect(connectRedis({ url: 'http://x', name: 't', logger })).rejects.toThrow(
      /must start with redis:\/\/ or rediss:\/\//,
    );
    await expect(connectRedis({ url: 'nonsense', name: 't', logger })).rejects.toThrow(/not a URL/);
    await expect(
      connectRedis({ url: testRedisUrl, prefix: 'a b*', name: 't', logger }),
    ).rejects.toThrow(/key prefix "a b\*" is invalid/);
  });

  it('names the server it cannot reach, without its password', async () => {
    const port = await freePort();
    const error = await connectRedis({
      url: `redis://user:s3cret@127.0.0.1:${port}`,
      name: 't',
      logger,
      connectTimeoutMs: 1_000,
    }).catch((err: Error) => err);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      new RegExp(`^Redis at redis://user:\\*\\*\\*@127\\.0\\.0\\.1:${port}.* cannot be reached`),
    );
    expect((error as Error).message).not.toContain('s3cret');
  });

  it('puts every key under the prefix', () => {
    expect(admin.key('lease', 'default')).toBe(`${space.prefix}lease:default`);
  });
});

describe('LeaseStore', () => {
  it('hands out strictly increasing tokens across owners; a held lease is refused', async () => {
    const [a, b, c] = await Promise.all(
      ['a', 'b', 'c'].map(async (n) => new LeaseStore(await connect(n), n, 300)),
    );
    const tokens: number[] = [];
    const first = await a!.acquire('s1');
    expect(first).toBeGreaterThan(0);
    tokens.push(first!);
    expect(await b!.acquire('s1')).toBeNull();
    expect(await a!.release('s1')).toBe(true);
    tokens.push((await b!.acquire('s1'))!);
    // b stops renewing: the lease expires (300 ms) and c gets a newer token.
    tokens.push((await eventually('b expires', () => c!.acquire('s1'), 3_000))!);
    // Taking one's own lease again (after a restart) also moves the token on.
    tokens.push((await c!.acquire('s1'))!);
    // Redis restarted empty (which takes more than the few ms a token can run ahead of the
    // clock): the counter is gone, the tokens still go up.
    await admin.redis.del(`${space.prefix}fence:s1`, `${space.prefix}lease:s1`);
    await new Promise((r) => setTimeout(r, 10));
    tokens.push((await a!.acquire('s1'))!);
    for (const [i, token] of tokens.entries()) {
      expect(Number.isSafeInteger(token) && token > (tokens[i - 1] ?? 0)).toBe(true);
    }
    expect(await admin.redis.get(`${space.prefix}lease:s1`)).toBe('a');
    expect(await admin.redis.get(`${space.prefix}fence:s1`)).toBe(String(tokens.at(-1)));
  });

  it('hands out tokens one apart when acquisitions come faster than the clock moves', async () => {
    const store = new LeaseStore(await connect('fast'), 'fast', 5_000);
    const tokens: number[] = [];
    for (let i = 0; i < 50; i++) {
      tokens.push((await store.acquire('fast'))!);
      await store.release('fast');
    }
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
    // Never far ahead of the clock: at most one per acquisition past it.
    expect(tokens.at(-1)! - Date.now()).toBeLessThan(50 + 1_000);
  });

  it('renews and releases only what the node holds (compare first)', async () => {
    const a = new LeaseStore(await connect('a'), 'a', 5_000);
    const b = new LeaseStore(await connect('b'), 'b', 5_000);
    await b.acquire('s2');
    await admin.redis.pexpire(`${space.prefix}lease:s2`, 1_000);
    expect(await a.renew(['s2'])).toEqual([false]);
    expect(await admin.redis.pttl(`${space.prefix}lease:s2`)).toBeLessThanOrEqual(1_000);
    expect(await a.release('s2')).toBe(false);
    expect(await b.renew(['s2', 'none'])).toEqual([true, false]);
    expect(await admin.redis.pttl(`${space.prefix}lease:s2`)).toBeGreaterThan(4_000);
    expect(await a.owners(['s2', 'none'])).toEqual(
      new Map([
        ['s2', 'b'],
        ['none', null],
      ]),
    );
    expect(await b.release('s2')).toBe(true);
    expect(await admin.redis.exists(`${space.prefix}lease:s2`)).toBe(0);
  });

  it('gives the lease to exactly one of eight nodes racing for it, round after round', async () => {
    const nodes = await Promise.all(
      Array.from(
        { length: 8 },
        async (_, i) => new LeaseStore(await connect(`r${i}`), `r${i}`, 5_000),
      ),
    );
    let last = 0;
    for (let round = 0; round < 25; round++) {
      const results = await Promise.all(nodes.map((n) => n.acquire('race')));
      const winners = results.flatMap((token, i) => (token === null ? [] : [{ token, i }]));
      expect(winners).toHaveLength(1);
      expect(winners[0]!.token).toBeGreaterThan(last);
      last = winners[0]!.token;
      expect(await nodes[winners[0]!.i]!.release('race')).toBe(true);
    }
  });
});

describe('LeaseKeeper', () => {
  const keeperOf = async (nodeId: string, ttlMs: number) => {
    const lost: { sessionId: string; reason: LeaseLossReason; at: number }[] = [];
    const keeper = new LeaseKeeper({
      store: new LeaseStore(await connect(nodeId), nodeId, ttlMs),
      timings: leaseTimings(ttlMs),
      logger,
      onLost: (sessionId, _token, reason) => lost.push({ sessionId, reason, at: Date.now() }),
    });
    keeper.start();
    return { keeper, lost };
  };

  it('keeps a lease for many ttls by renewing it', async () => {
    // Slack for a loaded machine: a renewal may be up to the margin (200 ms) late.
    const { keeper, lost } = await keeperOf('k1', 1_000);
    const token = await keeper.acquire('kept');
    expect(token).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 3_500));
    expect(lost).toEqual([]);
    expect(await admin.redis.get(`${space.prefix}lease:kept`)).toBe('k1');
    expect(keeper.tokenOf('kept')).toBe(token);
    await keeper.release('kept');
    keeper.stop();
  });

  it('reports a lease that Redis gave to another node as lost at the next renewal', async () => {
    const { keeper, lost } = await keeperOf('k2', 1_500);
    await keeper.acquire('stolen');
    // As if it expired while this node was paused and another node took it.
    await admin.redis.set(`${space.prefix}lease:stolen`, 'other', 'PX', 5_000);
    const at = Date.now();
    await eventually('lease lost', () => lost.length > 0, 2_000);
    expect(lost[0]).toMatchObject({ sessionId: 'stolen', reason: 'taken' });
    // At the next renewal (every 500 ms), not by running out (ttl - margin = 1200 ms).
    expect(lost[0]!.at - at).toBeLessThan(1_200);
    expect(keeper.heldLeases().size).toBe(0);
    keeper.stop();
  });

  it('refuses timings that cannot keep a lease', () => {
    expect(() => leaseTimings(1_000, { renewEveryMs: 900 })).toThrow(/cannot keep a lease/);
  });
});
