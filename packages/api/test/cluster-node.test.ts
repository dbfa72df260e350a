import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freshRedisPrefix } from '../../../test/helpers/services.js';
import { until } from '../../../test/helpers/wait.js';
import type { ClusterMember } from '../src/cluster/joinCluster.js';
import { Ledger, quick, startTestNode } from './clusterHarness.js';

const space = freshRedisPrefix('cluster_node');
let nodes: ClusterMember[] = [];
let ledger: Ledger;
let run = 0;

afterEach(async () => {
  await Promise.all(nodes.map((n) => n.close()));
  nodes = [];
  expect(ledger.violations).toEqual([]);
});
afterAll(() => space.clear());

/** Sessions of this test only (each test gets its own ids under the file's prefix). */
const sessionIds = (n: number) => {
  run++;
  return Array.from({ length: n }, (_, i) => `t${run}s${i}`);
};

const start = async (
  ids: string[],
  names: string[],
  extra: Partial<Parameters<typeof startTestNode>[0]> = {},
) => {
  const started = await Promise.all(
    names.map((nodeId) =>
      startTestNode({
        prefix: `${space.prefix}${run}:`,
        nodeId,
        ledger,
        sessions: () => ids,
        timings: quick,
        ...extra,
      }),
    ),
  );
  nodes.push(...started);
  return started;
};

const settled = (names: string[], expected: number[], what: string, timeoutMs = 10_000) =>
  until(
    ledger,
    'change',
    () => {
      const counts = ledger.counts(names);
      return [...counts].sort().join() === [...expected].sort().join() ? counts : undefined;
    },
    what,
    timeoutMs,
  );

describe('ClusterNode', () => {
  it('spreads 9 sessions over 3 nodes, 3 each; a fourth node joining takes its share', async () => {
    ledger = new Ledger();
    const ids = sessionIds(9);
    await start(ids, ['a', 'b', 'c']);
    expect(await settled(['a', 'b', 'c'], [3, 3, 3], '3 sessions on each of 3 nodes')).toEqual([
      3, 3, 3,
    ]);
    const startsBefore = ledger.starts;
    await start(ids, ['d']);
    await settled(['a', 'b', 'c', 'd'], [3, 2, 2, 2], 'a fourth node taking its share');
    expect(ledger.running.size).toBe(9);
    // Only the two sessions d took moved; nothing traded back and forth.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(ledger.starts - startsBefore).toBe(2);
    expect(ledger.counts(['d'])).toEqual([2]);
  });

  it('lets several nodes race for the same sessions without a session ever running twice', async () => {
    ledger = new Ledger();
    const ids = sessionIds(20);
    const names = ['r1', 'r2', 'r3', 'r4', 'r5'];
    const racing = await start(ids, names);
    await settled(names, [4, 4, 4, 4, 4], '20 sessions over 5 nodes');
    // Churn: two leave and come back while the others rebalance.
    await Promise.all([racing[0]!.close(), racing[1]!.close()]);
    await settled(names.slice(2), [7, 7, 6], '20 sessions over the 3 that stayed');
    await start(ids, ['r1', 'r2']);
    await settled(names, [4, 4, 4, 4, 4], '20 sessions over 5 nodes again');
    const tokens = [...ledger.running.values()].map((r) => r.token);
    expect(tokens.every((t) => Number.isSafeInteger(t) && t > 0)).toBe(true);
  });

  it('hands its sessions over at once on close, far under the lease ttl', async () => {
    ledger = new Ledger();
    const ids = sessionIds(6);
    // Production lease ttl and a slow scan: only the handover itself can be this fast.
    const timings = { ttlMs: 10_000, heartbeatTtlMs: 5_000, scanEveryMs: 5_000 };
    const [a, b] = await start(ids, ['a', 'b'], { timings });
    // Not wait for the first scan.
    a!.node.sessionsChanged();
    b!.node.sessionsChanged();
    await settled(['a', 'b'], [3, 3], '3 sessions on each node');
    const moved = ledger.sessionsOn('a');
    const tokens = moved.map((id) => ledger.running.get(id)!.token);
    const startedAt = performance.now();
    await a!.close();
    await settled(['a', 'b'], [0, 6], 'b running all 6');
    const ms = Math.round(performance.now() - startedAt);
    moved.forEach((id, i) => {
      expect(ledger.running.get(id)!.token).toBeGreaterThan(tokens[i]!);
    });
    console.log(`graceful handover of 3 sessions: ${ms} ms (lease ttl 10000 ms, scan 5000 ms)`);
    expect(ms).toBeLessThan(2_000);
  });

  it('starts a session that becomes wanted and stops one that no longer is', async () => {
    ledger = new Ledger();
    const ids = sessionIds(2);
    const wanted = [ids[0]!];
    const [a] = await start(wanted, ['a'], { sessions: () => wanted });
    await settled(['a'], [1], 'the first session running');
    wanted.push(ids[1]!);
    a!.node.sessionsChanged();
    await settled(['a'], [2], 'the new session running');
    wanted.shift();
    const released = new Promise((resolve) => a!.node.once('released', (...args) => resolve(args)));
    a!.node.sessionsChanged();
    expect(await released).toEqual([ids[0], 'unwanted']);
    expect(ledger.running.has(ids[0]!)).toBe(false);
    expect([...a!.node.owned().keys()]).toEqual([ids[1]]);
  });

  it('leaves a session that fails to start here to another node', async () => {
    ledger = new Ledger();
    const ids = sessionIds(4);
    await start(ids, ['a'], { failing: new Set(ids) });
    await start(ids, ['b']);
    await settled(['a', 'b'], [0, 4], 'b running all 4');
  });
});
