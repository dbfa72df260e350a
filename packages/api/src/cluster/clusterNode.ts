import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { planBalance } from './balance.js';
import type {
  ClusterNodeEvents,
  ClusterNodeOptions,
  LocalStopReason,
} from './clusterNodeOptions.js';
import { ClusterNudges } from './clusterNudges.js';
import { type ClusterTimings, clusterTimings } from './clusterTimings.js';
import { KeyedQueue } from './keyedQueue.js';
import { LeaseKeeper, type LeaseLossReason } from './leaseKeeper.js';
import { LeaseStore } from './leaseStore.js';
import { Membership, randomNodeId } from './membership.js';

/**
 * One server node of the cluster: joins, keeps its share of the sessions (planBalance) by
 * claiming free leases and handing surplus over, takes over sessions whose owner died once
 * their leases expire, and on close hands every session over at once. Each session's changes
 * here run one at a time, and a session is always stopped before its lease is released.
 * @see docs/cluster.md
 */
export class ClusterNode extends EventEmitter<ClusterNodeEvents> {
  readonly nodeId: string;
  private readonly timings: ClusterTimings;
  private readonly store: LeaseStore;
  private readonly keeper: LeaseKeeper;
  private readonly membership: Membership;
  private nudges: ClusterNudges | undefined;
  /** Each session's changes here, one at a time. */
  private readonly queue = new KeyedQueue((err, sessionId) =>
    this.log.error({ err, sessionId }, 'cluster change failed'),
  );
  private readonly cooling = new Map<string, number>();
  private staleFree = new Set<string>();
  private scanTimer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private again = false;
  private failing = false;
  private hungry = false;
  /** When the first lease of a dead owner expires, from the last decision (ms from then). */
  private orphansFreeInMs = Number.POSITIVE_INFINITY;
  private closing: Promise<void> | undefined;

  private constructor(private readonly options: ClusterNodeOptions) {
    super();
    this.timings = clusterTimings(options.timings);
    this.nodeId = options.nodeId ?? randomNodeId();
    const logger = options.logger.child({ component: 'cluster', nodeId: this.nodeId });
    this.options = { ...options, logger };
    this.membership = new Membership({
      conn: options.conn,
      nodeId: this.nodeId,
      ttlMs: this.timings.heartbeatTtlMs,
      logger,
    });
    this.store = new LeaseStore(options.conn, this.nodeId, this.timings.ttlMs);
    this.keeper = new LeaseKeeper({
      store: this.store,
      timings: this.timings,
      logger,
      onLost: (id, token, reason) => this.lost(id, token, reason),
    });
  }

  /** Joins the cluster and starts claiming. @throws when Redis refuses or the node id is taken. */
  static async start(options: ClusterNodeOptions): Promise<ClusterNode> {
    const node = new ClusterNode(options);
    await node.membership.join();
    try {
      node.nudges = await ClusterNudges.listen(options.conn, node.nodeId, node.log, () =>
        node.wake(),
      );
    } catch (err) {
      await node.membership.leave().catch(() => {});
      throw err;
    }
    node.keeper.start();
    node.log.info({ timings: node.timings }, 'joined the cluster');
    void node.nudges.send(node.nodeId);
    // The first decision waits one scan, so that nodes started together see each other first
    // instead of the first one taking everything and handing most of it on.
    node.scanTimer = setTimeout(() => node.wake(), node.timings.scanEveryMs);
    node.scanTimer.unref();
    return node;
  }

  private get log(): Logger {
    return this.options.logger;
  }

  /** The sessions this node holds a lease for, with their fencing tokens. */
  owned(): Map<string, number> {
    return this.keeper.heldLeases();
  }

  /** Every node decides again now: call after a session was created, started, stopped or deleted. */
  sessionsChanged(): void {
    this.wake();
    void this.nudges?.send(this.nodeId);
  }

  /**
   * Hands every session over and leaves: stops taking sessions, leaves the node list (the others
   * stop counting this node), then stops and releases each session, telling the others at once.
   * Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.handOverAll();
    return this.closing;
  }

  private async handOverAll(): Promise<void> {
    clearTimeout(this.scanTimer);
    await this.round;
    await this.membership.leave().catch((err) => this.log.warn({ err }, 'leave failed'));
    const ids = [...this.keeper.heldLeases().keys()];
    await Promise.all(ids.map((id) => this.handOver(id, 'shutdown')));
    this.keeper.stop();
    await this.nudges?.close();
    this.log.info({ handedOver: ids.length }, 'left the cluster');
  }

  /** Runs a decision round now, or right after the one under way. */
  private wake(): void {
    if (this.closing) return;
    if (this.round) {
      this.again = true;
      return;
    }
    clearTimeout(this.scanTimer);
    this.round = this.decide().finally(() => {
      this.round = undefined;
      if (this.closing) return;
      if (this.again) {
        this.again = false;
        this.wake();
        return;
      }
      const jitter = 0.8 + Math.random() * 0.4;
      const next = Math.min(this.timings.scanEveryMs * jitter, this.orphansFreeInMs);
      this.scanTimer = setTimeout(() => this.wake(), next);
      this.scanTimer.unref();
    });
  }

  private async decide(): Promise<void> {
    try {
      const wanted = [...(await this.options.sessions())];
      const [live, owners] = await Promise.all([
        this.membership.liveNodes(),
        this.store.owners(wanted),
      ]);
      const now = Date.now();
      for (const [id, until] of this.cooling) if (until <= now) this.cooling.delete(id);
      const plan = planBalance({
        nodeId: this.nodeId,
        liveNodes: live.nodes,
        hungry: live.hungry,
        wanted,
        owners,
        held: new Set(this.keeper.heldLeases().keys()),
        staleFree: this.staleFree,
        cooling: new Set(this.cooling.keys()),
      });
      this.staleFree = new Set(wanted.filter((id) => owners.get(id) === null));
      await this.watchOrphans(wanted, owners, live.nodes);
      const wantedSet = new Set(wanted);
      const [, claimed] = await Promise.all([
        Promise.all(
          plan.release.map((id) => this.handOver(id, wantedSet.has(id) ? 'handover' : 'unwanted')),
        ),
        Promise.all(plan.claim.map((id) => this.claim(id))),
        Promise.all(plan.dropStale.map((id) => this.store.release(id))),
      ]);
      // Another node took one first: decide again now, the next free one may still be there.
      if (claimed.includes('taken')) this.again = true;
      if (plan.hungry !== this.hungry || plan.hungry) {
        // Kept for three scans: it ends on its own if this node dies while asking.
        await this.membership.setHungry(plan.hungry, this.timings.scanEveryMs * 3);
        if (plan.hungry && !this.hungry) void this.nudges?.send(this.nodeId);
        this.hungry = plan.hungry;
      }
      if (plan.dropStale.length > 0) void this.nudges?.send(this.nodeId);
      if (this.failing) this.log.info('cluster decisions get through again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log.warn({ err: (err as Error).message }, 'cluster decision failed');
      this.failing = true;
    }
  }

  /**
   * Sessions whose owner is no longer live (killed) are free the moment their leases expire:
   * the next decision is then, not up to a scan later, so takeover takes the ttl and no more.
   */
  private async watchOrphans(
    wanted: readonly string[],
    owners: ReadonlyMap<string, string | null>,
    liveNodes: readonly string[],
  ): Promise<void> {
    const orphans = wanted.filter((id) => {
      const owner = owners.get(id);
      return owner && owner !== this.nodeId && !liveNodes.includes(owner);
    });
    this.orphansFreeInMs = (await this.store.firstExpiryIn(orphans)) + 20;
  }

  /** Resolves with 'taken' when another node held the lease first. */
  private async claim(sessionId: string): Promise<'taken' | undefined> {
    let taken = false;
    await this.queue.run(sessionId, async () => {
      if (this.closing || this.keeper.tokenOf(sessionId) !== undefined) return;
      const token = await this.keeper.acquire(sessionId);
      taken = token === null;
      if (token === null) return;
      try {
        await this.options.startLocal(sessionId, token);
      } catch (err) {
        this.log.error({ err, sessionId }, 'session failed to start here; leaving it to others');
        this.cooling.set(sessionId, Date.now() + this.timings.coolDownMs);
        await this.options.stopLocal(sessionId, 'handover').catch(() => {});
        await this.keeper.release(sessionId).catch(() => {});
        void this.nudges?.send(this.nodeId);
        return;
      }
      if (this.keeper.tokenOf(sessionId) !== token) {
        // Lost while starting: the stop `lost()` sent may have come before the start finished.
        await this.options.stopLocal(sessionId, 'lost');
        return;
      }
      this.log.info({ sessionId, fencingToken: token }, 'session claimed');
      this.emit('claimed', sessionId, token);
    });
    return taken ? 'taken' : undefined;
  }

  private handOver(sessionId: string, reason: LocalStopReason): Promise<void> {
    return this.queue.run(sessionId, async () => {
      if (this.keeper.tokenOf(sessionId) === undefined) return;
      try {
        await this.options.stopLocal(sessionId, reason);
      } catch (err) {
        // Released anyway: the next owner's newer fencing token refuses any late write.
        this.log.error({ err, sessionId }, 'session did not stop cleanly; releasing it anyway');
      }
      await this.keeper
        .release(sessionId)
        .catch((err) =>
          this.log.warn({ err: (err as Error).message, sessionId }, 'release failed'),
        );
      void this.nudges?.send(this.nodeId);
      this.log.info({ sessionId, reason }, 'session released');
      this.emit('released', sessionId, reason);
    });
  }

  private lost(sessionId: string, token: number, reason: LeaseLossReason): void {
    // Straight away, not behind the queue, and before any listener runs: the session must stop
    // writing before the lease can end.
    const failed = (err: unknown) =>
      this.log.error({ err, sessionId }, 'session did not stop after its lease was lost');
    try {
      this.options.stopLocal(sessionId, 'lost').catch(failed);
    } catch (err) {
      failed(err);
    }
    this.emit('lost', sessionId, token, reason);
  }
}
