import { describe, expect, it } from 'vitest';
import { type BalanceInput, planBalance } from '../src/cluster/balance.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`);
const input = (over: Partial<BalanceInput>): BalanceInput => ({
  nodeId: 'a',
  liveNodes: ['a'],
  wanted: [],
  owners: new Map(),
  held: new Set(),
  staleFree: new Set(),
  cooling: new Set(),
  hungry: new Set(),
  ...over,
});

/**
 * Plays every node's decisions in turn against one shared view of the leases (as Redis would
 * hold them) until nothing changes, and returns who holds what.
 */
const settle = (nodes: string[], wanted: string[], start = new Map<string, string>()) => {
  const owners = new Map(start);
  const hungry = new Set<string>();
  for (let round = 0; round < 20; round++) {
    let changed = false;
    for (const nodeId of nodes) {
      const held = new Set([...owners].filter(([, o]) => o === nodeId).map(([id]) => id));
      const plan = planBalance(
        input({
          nodeId,
          liveNodes: nodes,
          wanted,
          owners: new Map(wanted.map((id) => [id, owners.get(id) ?? null])),
          held,
          hungry,
        }),
      );
      for (const id of plan.release) owners.delete(id);
      for (const id of plan.claim) {
        expect(owners.has(id)).toBe(false);
        owners.set(id, nodeId);
      }
      changed ||= plan.release.length + plan.claim.length > 0 || plan.hungry !== hungry.has(nodeId);
      if (plan.hungry) hungry.add(nodeId);
      else hungry.delete(nodeId);
    }
    if (!changed) return owners;
  }
  throw new Error('did not settle in 20 rounds');
};

const counts = (owners: Map<string, string>, nodes: string[]) =>
  nodes.map((n) => [...owners.values()].filter((o) => o === n).length);

describe('planBalance', () => {
  it('gives each node its fair share: 9 sessions over 3 nodes are 3 each', () => {
    const nodes = ['a', 'b', 'c'];
    const owners = settle(nodes, ids(9));
    expect(counts(owners, nodes)).toEqual([3, 3, 3]);
    expect(owners.size).toBe(9);
  });

  it('a fourth node joining takes its share from the others, each session moving once', () => {
    const three = settle(['a', 'b', 'c'], ids(9));
    const nodes = ['a', 'b', 'c', 'd'];
    const four = settle(nodes, ids(9), three);
    expect(counts(four, nodes).sort()).toEqual([2, 2, 2, 3]);
    const moved = ids(9).filter((id) => three.get(id) !== four.get(id));
    expect(moved).toHaveLength(four.size - 7);
    for (const id of moved) expect(four.get(id)).toBe('d');
  });

  it('targets add up to the number of sessions, floor or ceil by the rank of the node id', () => {
    for (const [total, n] of [
      [0, 3],
      [1, 3],
      [7, 3],
      [10, 4],
      [100, 7],
    ] as const) {
      const nodes = Array.from({ length: n }, (_, i) => `n${i}`);
      const targets = nodes.map(
        (nodeId) => planBalance(input({ nodeId, liveNodes: nodes, wanted: ids(total) })).target,
      );
      expect(targets.reduce((a, b) => a + b, 0)).toBe(total);
      expect(Math.max(...targets) - Math.min(...targets)).toBeLessThanOrEqual(1);
      expect(targets).toEqual([...targets].sort((a, b) => b - a));
    }
  });

  it('claims only free sessions (or leases left under its own id), never one another node holds', () => {
    const owners = new Map<string, string | null>([
      ['s0', 'b'],
      ['s1', null],
      ['s2', 'a'],
      ['s3', 'b'],
    ]);
    const plan = planBalance(input({ liveNodes: ['a', 'b'], wanted: ids(4), owners }));
    expect(plan.claim.sort()).toEqual(['s1', 's2']);
    expect(plan.release).toEqual([]);
  });

  it('releases sessions no longer wanted, and surplus above its target when a node is hungry', () => {
    const over = {
      liveNodes: ['a', 'b'],
      wanted: ids(4),
      owners: new Map(ids(4).map((id) => [id, 'a'])),
      held: new Set([...ids(4), 'gone']),
    };
    const plan = planBalance(input({ ...over, hungry: new Set(['b']) }));
    expect(plan).toMatchObject({ target: 2, release: ['gone', 's2', 's3'], claim: [] });
    // Nobody asks (b is starting, or cannot run them): the surplus stays where it runs.
    expect(planBalance(input(over)).release).toEqual(['gone']);
    // Its own hunger does not count.
    expect(planBalance(input({ ...over, hungry: new Set(['a']) })).release).toEqual(['gone']);
  });

  it('is hungry only below target with every free session claimed and none cooling', () => {
    const owners = new Map<string, string | null>(ids(4).map((id) => [id, 'a']));
    const b = { nodeId: 'b', liveNodes: ['a', 'b'], wanted: ids(4), owners };
    expect(planBalance(input(b)).hungry).toBe(true);
    expect(planBalance(input({ ...b, cooling: new Set(['x']) })).hungry).toBe(false);
    owners.set('s0', null);
    expect(planBalance(input(b))).toMatchObject({ claim: ['s0'], hungry: true });
    owners.set('s1', null);
    expect(planBalance(input(b)).hungry).toBe(false);
  });

  it('counts itself even when its own heartbeat is missing from the list', () => {
    const plan = planBalance(input({ nodeId: 'z', liveNodes: ['a'], wanted: ids(4) }));
    expect(plan.target).toBe(2);
  });

  it('takes a session still free since the last decision past its target, up to its part', () => {
    // A dead node `c` is still counted: 7 sessions, targets a 3, b 2, c 2; a and b hold theirs
    // and c's two expired sessions are free. Fresh, they wait for their claimant (c, dead);
    // still free at b's next decision, b takes one more: ceil(7 / 2) = 4 over the two nodes
    // that hold leases, not both.
    const wanted = ids(7);
    const owners = new Map<string, string | null>(
      wanted.map((id, i) => [id, i < 3 ? 'a' : i < 5 ? 'b' : null]),
    );
    const b = { nodeId: 'b', liveNodes: ['a', 'b', 'c'], wanted, owners };
    const held = new Set(['s3', 's4']);
    const fresh = planBalance(input({ ...b, held }));
    expect(fresh).toMatchObject({ target: 2, claim: [], release: [] });
    const stale = planBalance(input({ ...b, held, staleFree: new Set(['s5', 's6']) }));
    expect(stale.claim).toHaveLength(2);
    const third = { ...b, held: new Set(['s3']), staleFree: new Set(['s4', 's5', 's6']) };
    owners.set('s4', null);
    expect(planBalance(input(third)).claim).toHaveLength(3);
    // With a also holding nothing: only b runs anything, and it may take all 7.
    for (const id of ['s0', 's1', 's2']) owners.set(id, null);
    const all = { ...third, staleFree: new Set(ids(7).filter((id) => id !== 's3')) };
    expect(planBalance(input(all)).claim).toHaveLength(6);
  });

  it('leaves a cooling session to the others, and drops a stale own lease it does not claim', () => {
    const owners = new Map<string, string | null>([
      ['s0', null],
      ['s1', 'a'],
    ]);
    const plan = planBalance(
      input({
        liveNodes: ['a', 'b', 'c', 'd'],
        nodeId: 'd',
        wanted: ['s0', 's1'],
        owners: new Map([
          ['s0', null],
          ['s1', 'd'],
        ]),
        cooling: new Set(['s0']),
      }),
    );
    expect(plan.target).toBe(0);
    expect(plan.claim).toEqual([]);
    expect(plan.dropStale).toEqual(['s1']);
    const a = planBalance(input({ wanted: ['s0', 's1'], owners, cooling: new Set(['s0']) }));
    expect(a.claim).toEqual(['s1']);
    expect(a.dropStale).toEqual([]);
  });
});
