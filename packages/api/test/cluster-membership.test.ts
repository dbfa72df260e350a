import { afterAll, describe, expect, it } from 'vitest';
import { freshRedisPrefix, testRedisUrl } from '../../../test/helpers/services.js';
import { eventually } from '../../../test/helpers/wait.js';
import { checkNodeId, Membership, randomNodeId } from '../src/cluster/membership.js';
import { connectRedis, type RedisConnection } from '../src/cluster/redisConnection.js';
import { silent } from './clusterHarness.js';

const space = freshRedisPrefix('cluster_membership');
const conns: RedisConnection[] = [];
const member = async (nodeId: string, ttlMs: number) => {
  const conn = await connectRedis({
    url: testRedisUrl,
    prefix: space.prefix,
    name: nodeId,
    logger: silent,
  });
  conns.push(conn);
  return new Membership({ conn, nodeId, ttlMs, logger: silent });
};
afterAll(async () => {
  await space.clear();
  await Promise.all(conns.map((c) => c.close()));
});

describe('Membership', () => {
  it('lists the nodes with a live heartbeat: joined, left, or silent past the ttl', async () => {
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((id) => member(id, 400)));
    for (const m of [a, b, c]) await m!.join();
    await new Promise((r) => setTimeout(r, 600)); // beats keep them alive past one ttl
    expect((await a!.liveNodes()).nodes).toEqual(['a', 'b', 'c']);
    await b!.leave();
    expect((await a!.liveNodes()).nodes).toEqual(['a', 'c']);
    c!.stop(); // as if killed: its heartbeat runs out
    await eventually('c gone', async () => (await a!.liveNodes()).nodes.join() === 'a', 2_000);
    a!.stop();
  });

  it('refuses a second running process with the same node id, with a clear error', async () => {
    const first = await member('twin', 300);
    await first.join();
    const second = await member('twin', 300);
    await expect(second.join()).rejects.toThrow(/node id twin is in use by another running node/);
    // Once the first is gone (killed: its beat lapses), the id can be used again.
    first.stop();
    await second.join();
    expect((await second.liveNodes()).nodes).toContain('twin');
    await second.leave();
  });

  it('marks the nodes that ask for sessions', async () => {
    const [h, f] = await Promise.all(['h', 'f'].map((id) => member(id, 1_000)));
    await h!.join();
    await f!.join();
    await h!.setHungry(true, 1_000);
    expect([...(await f!.liveNodes()).hungry]).toEqual(['h']);
    await h!.setHungry(false, 1_000);
    expect((await f!.liveNodes()).hungry.size).toBe(0);
    await h!.leave();
    await f!.leave();
  });

  it('takes only node ids that can name a node', () => {
    expect(checkNodeId('node-1.eu_west')).toBe('node-1.eu_west');
    expect(() => checkNodeId('a b')).toThrow(/node id "a b" is invalid \(POLLMASTERS_NODE_ID\)/);
    expect(() => checkNodeId('')).toThrow(/invalid/);
    expect(checkNodeId(randomNodeId())).toMatch(/-[0-9a-f]{8}$/);
  });
});
