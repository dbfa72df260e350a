/** What one node knows when it decides which sessions to claim and which to give up. */
export interface BalanceInput {
  nodeId: string;
  /** The nodes with a live heartbeat (this one counts even if its own beat is missing). */
  liveNodes: readonly string[];
  /** The sessions that should run, cluster-wide. */
  wanted: readonly string[];
  /** Who holds each wanted session's lease in Redis (null: nobody). */
  owners: ReadonlyMap<string, string | null>;
  /** The sessions this node holds a lease for and runs. */
  held: ReadonlySet<string>;
  /** Wanted sessions that were free at the previous decision too. */
  staleFree: ReadonlySet<string>;
  /** Sessions this node must not claim for now (their start just failed here). */
  cooling: ReadonlySet<string>;
  /** Live nodes that asked for sessions (below their target with nothing free to claim). */
  hungry: ReadonlySet<string>;
}

export interface BalancePlan {
  /** How many sessions this node should run. */
  target: number;
  /** Free sessions to acquire and start, in order. */
  claim: string[];
  /** Held sessions to stop and release: no longer wanted, or above the target. */
  release: string[];
  /** Leases Redis still has under this node's id though it runs nothing of them: delete them. */
  dropStale: string[];
  /** Whether to ask the others for sessions: below target, nothing to claim, nothing cooling. */
  hungry: boolean;
}

/** FNV-1a, so that nodes try free sessions in different orders and collide less. */
const hash = (text: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
};

/**
 * The fair share: with S sessions over N live nodes (sorted by id), the first S mod N nodes run
 * ceil(S / N) and the others floor(S / N), so the targets add up to exactly S. A node claims
 * free sessions up to its target. A session still free at the next decision (its rightful
 * claimant did not take it: a dead node is still counted until its heartbeat ends, or its start
 * failed there) may be claimed by any node up to ceil(S / H), H the nodes that hold a lease, so
 * nothing stays unowned because a node is counted that cannot run it. A node below its target with nothing left to claim
 * (one that just joined) says it is hungry, and only then do the nodes above their targets hand
 * their surplus over: without a hungry node nothing moves, so sessions never trade back and forth.
 */
export const planBalance = (input: BalanceInput): BalancePlan => {
  const { nodeId, wanted, owners, held } = input;
  const nodes = [...new Set([...input.liveNodes, nodeId])].sort();
  const total = wanted.length;
  const rank = nodes.indexOf(nodeId);
  const target = Math.floor(total / nodes.length) + (rank < total % nodes.length ? 1 : 0);
  // Over the nodes that run something: a dead node (its leases expired) or one that cannot
  // start sessions holds none, and the others cover its part.
  const holders = new Set([...owners.values()].filter((o) => o !== null && nodes.includes(o)));
  const ceiling = Math.ceil(total / holders.add(nodeId).size);

  const wantedSet = new Set(wanted);
  const release = [...held].filter((id) => !wantedSet.has(id)).sort();
  const mine = wanted.filter((id) => held.has(id)).sort();
  const someoneHungry = [...input.hungry].some((id) => id !== nodeId && nodes.includes(id));
  if (mine.length > target && someoneHungry) release.push(...mine.slice(target));
  let running = someoneHungry ? Math.min(mine.length, target) : mine.length;

  const free = wanted
    .filter((id) => !held.has(id) && !input.cooling.has(id))
    .filter((id) => {
      const owner = owners.get(id) ?? null;
      return owner === null || owner === nodeId;
    })
    .sort((a, b) => hash(`${nodeId}/${a}`) - hash(`${nodeId}/${b}`) || (a < b ? -1 : 1));
  const claim: string[] = [];
  for (const id of free) {
    if (running >= target) break;
    claim.push(id);
    running++;
  }
  for (const id of free) {
    if (running >= ceiling) break;
    if (claim.includes(id) || !input.staleFree.has(id)) continue;
    claim.push(id);
    running++;
  }
  const dropStale = free.filter((id) => owners.get(id) === nodeId && !claim.includes(id));
  const hungry = running < target && claim.length === free.length && input.cooling.size === 0;
  return { target, claim, release, dropStale, hungry };
};
