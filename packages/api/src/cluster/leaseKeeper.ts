import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { LeaseTimings } from './clusterTimings.js';
import type { LeaseStore } from './leaseStore.js';

/**
 * Why a lease was lost: `taken`, Redis says this node no longer holds it (it expired, and may
 * have a new owner); `unreachable`, no renewal got through in time, so it may expire any moment.
 */
export type LeaseLossReason = 'taken' | 'unreachable';

export interface LeaseKeeperOptions {
  store: LeaseStore;
  timings: LeaseTimings;
  logger: Logger;
  /** Called once per lost lease, after it is dropped here; the session must stop writing. */
  onLost: (sessionId: string, token: number, reason: LeaseLossReason) => void;
}

interface Held {
  token: number;
  /** performance.now() past which the lease may have expired in Redis, less the margin. */
  validUntil: number;
  timer: NodeJS.Timeout;
}

/**
 * The leases this node holds: acquires them, renews them all every `renewEveryMs` and gives
 * each up (calling `onLost`) the moment a renewal says it is gone, or `marginMs` before it could
 * expire when no renewal got through. The clock is local and monotonic, and a lease counts from
 * when its acquisition or renewal was SENT, so this node always drops it before Redis does.
 */
export class LeaseKeeper {
  private readonly held = new Map<string, Held>();
  private renewTimer: NodeJS.Timeout | undefined;
  /** performance.now() of the renewal under way, 0 when none is. */
  private renewingSince = 0;
  private failing = false;
  private stopped = false;

  constructor(private readonly options: LeaseKeeperOptions) {}

  /** Starts renewing (idempotent). */
  start(): void {
    if (this.renewTimer || this.stopped) return;
    this.renewTimer = setInterval(() => void this.renewAll(), this.options.timings.renewEveryMs);
    this.renewTimer.unref();
  }

  /** The ids and tokens of the leases held now. */
  heldLeases(): Map<string, number> {
    return new Map([...this.held].map(([id, h]) => [id, h.token]));
  }

  tokenOf(sessionId: string): number | undefined {
    return this.held.get(sessionId)?.token;
  }

  /** The new fencing token, or null when another node holds the lease. @throws on Redis errors. */
  async acquire(sessionId: string): Promise<number | null> {
    if (this.held.has(sessionId)) throw new Error(`lease of ${sessionId} is held already`);
    const sentAt = performance.now();
    const token = await this.options.store.acquire(sessionId);
    if (token === null) return null;
    const validUntil = sentAt + this.options.timings.ttlMs - this.options.timings.marginMs;
    if (this.stopped || this.held.has(sessionId) || performance.now() >= validUntil) {
      // Stopped meanwhile, or the answer came too late to be of use: do not keep it.
      void this.options.store.release(sessionId).catch(() => {});
      return null;
    }
    this.track(sessionId, token, validUntil);
    return token;
  }

  /** Stops keeping the lease and deletes it if it is still this node's. */
  async release(sessionId: string): Promise<boolean> {
    const held = this.held.get(sessionId);
    if (!held) return false;
    clearTimeout(held.timer);
    this.held.delete(sessionId);
    return this.options.store.release(sessionId);
  }

  /**
   * Stops renewing and forgets every lease without releasing it (they expire in Redis): for the
   * end of a shutdown that released what it could. No `onLost` calls.
   */
  stop(): void {
    this.stopped = true;
    clearInterval(this.renewTimer);
    for (const held of this.held.values()) clearTimeout(held.timer);
    this.held.clear();
  }

  private track(sessionId: string, token: number, validUntil: number): void {
    const held: Held = { token, validUntil, timer: this.expiryTimer(sessionId, validUntil) };
    this.held.set(sessionId, held);
  }

  private expiryTimer(sessionId: string, validUntil: number): NodeJS.Timeout {
    const timer = setTimeout(
      () => this.lose(sessionId, 'unreachable'),
      Math.max(0, validUntil - performance.now()),
    );
    timer.unref();
    return timer;
  }

  private async renewAll(): Promise<void> {
    const sentAt = performance.now();
    // One renewal at a time, unless one hangs (a frozen server) for longer than a lease lasts.
    if (this.held.size === 0) return;
    if (this.renewingSince && sentAt - this.renewingSince < this.options.timings.ttlMs) return;
    this.renewingSince = sentAt;
    const snapshot = [...this.held];
    try {
      const kept = await this.options.store.renew(snapshot.map(([id]) => id));
      if (this.failing) this.options.logger.info('lease renewals get through again');
      this.failing = false;
      const validUntil = sentAt + this.options.timings.ttlMs - this.options.timings.marginMs;
      for (const [i, [sessionId, held]] of snapshot.entries()) {
        // Released or lost (and maybe acquired again) while the renewal was under way.
        if (this.held.get(sessionId) !== held) continue;
        if (!kept[i]) {
          this.lose(sessionId, 'taken');
          continue;
        }
        clearTimeout(held.timer);
        held.validUntil = validUntil;
        held.timer = this.expiryTimer(sessionId, validUntil);
      }
    } catch (err) {
      // The expiry timers decide when this becomes a loss; log once per outage.
      if (!this.failing) {
        this.options.logger.warn({ err: (err as Error).message }, 'lease renewal failed');
      }
      this.failing = true;
    } finally {
      if (this.renewingSince === sentAt) this.renewingSince = 0;
    }
  }

  private lose(sessionId: string, reason: LeaseLossReason): void {
    const held = this.held.get(sessionId);
    if (!held) return;
    clearTimeout(held.timer);
    this.held.delete(sessionId);
    this.options.logger.warn({ sessionId, token: held.token, reason }, 'lease lost');
    // If Redis still has it as ours (renewals stuck, not refused), free it for the others.
    if (reason === 'unreachable') void this.options.store.release(sessionId).catch(() => {});
    this.options.onLost(sessionId, held.token, reason);
  }
}
