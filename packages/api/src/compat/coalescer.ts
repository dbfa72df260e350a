import type { Poll } from '@pollmasters/shared';

/** What the coalescer needs to know of a state: whose it is and how new. */
export interface Versioned {
  id: string;
  version: number;
}

export interface CoalescerOptions {
  /**
   * Full-state bytes per second over all polls (a token bucket holding one second's worth).
   * When it is spent, dirty polls wait, the longest-waiting first. Default: unlimited. A
   * function is asked again at every refill (./pushBudget.ts: a budget that shrinks while the
   * event loop is busy).
   */
  bytesPerSec?: number | (() => number);
  /**
   * The budget's rate once no change has come for `quietAfterMs` (default 16 x `bytesPerSec`):
   * a burst of votes has ended, the states still owed are final, and pushing them no longer
   * competes with the votes themselves for the event loop.
   */
  quietBytesPerSec?: number;
  /**
   * How long no change must have come before the budget counts as quiet (default two poll
   * intervals). One interval was too short in a flood on a busy machine: each time the worker
   * waited 50 ms for a core, the budget refilled at the quiet rate, and the GUI got twice the
   * busy budget's states (docs/performance.md, "Session 8").
   */
  quietAfterMs?: number;
  /**
   * Bytes of state pushed in one go before the coalescer lets the event loop run again (other
   * clients' events, the worker's messages). Default 256 KiB: a short turn, so that those wait
   * little (what a byte of state costs: docs/performance.md).
   */
  bytesPerTurn?: number;
  now?: () => number;
}

interface Entry<T> {
  /** The newest version the clients were given. */
  version: number;
  /** The newest state not given yet. */
  pending: T | null;
  lastEmitAt: number;
  /** When a state some clients were too busy for is due again (see `retry`, `kick`). */
  retryAt: number | null;
}

/**
 * Throttles full-state pushes: at most one `emit` per poll per `intervalMs`, always with the
 * newest state, never an older version after a newer one; and, over all polls together, at
 * most `bytesPerSec` bytes of state (what `emit` reports it sent). A poll's states cost in
 * proportion to its size, so 100 busy polls of 1,000 voters share one budget instead of each
 * taking 10 pushes a second. The first change after a quiet interval goes out at once when the
 * budget allows; later ones go out together, oldest-dirty poll first. Once changes stop, the
 * budget refills faster (`quietBytesPerSec`), so the final states of a burst arrive soon.
 */
export class PollCoalescer<T extends Versioned = Poll> {
  private readonly entries = new Map<string, Entry<T>>();
  /** Polls with a pending state, in the order they became dirty. */
  private readonly dirty = new Map<string, Entry<T>>();
  private readonly rate: () => number;
  private readonly quietRate: (() => number) | null;
  /** When the last change came in (`push`). */
  private changedAt = Number.NEGATIVE_INFINITY;
  private readonly bytesPerTurn: number;
  private readonly quietAfterMs: number;
  private readonly now: () => number;
  private tokens: number;
  private refilledAt: number;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly intervalMs: number,
    /** Pushes a state; returns the bytes it cost (anything but a number = free). */
    private readonly emit: (state: T) => unknown,
    options: CoalescerOptions = {},
  ) {
    if (!(intervalMs > 0)) throw new RangeError('intervalMs must be a positive number');
    const { bytesPerSec = Number.POSITIVE_INFINITY, quietBytesPerSec } = options;
    this.rate = typeof bytesPerSec === 'function' ? bytesPerSec : () => bytesPerSec;
    this.quietRate = quietBytesPerSec === undefined ? null : () => quietBytesPerSec;
    this.bytesPerTurn = options.bytesPerTurn ?? 256 * 1024;
    this.quietAfterMs = options.quietAfterMs ?? 2 * intervalMs;
    this.now = options.now ?? Date.now;
    this.tokens = this.rate();
    this.refilledAt = this.now();
  }

  /** A new state of a poll; dropped when it is not newer than what was pushed or pending. */
  push(state: T): void {
    if (this.closed) return;
    const entry = this.entry(state.id);
    if (state.version <= Math.max(entry.version, entry.pending?.version ?? -1)) return;
    // The time up to this change is reckoned at the rate it had (quiet or busy), then busy.
    const now = this.now();
    this.refill(now);
    this.changedAt = now;
    entry.pending = state;
    if (!this.dirty.has(state.id)) this.dirty.set(state.id, entry);
    this.run();
  }

  /**
   * This state did not reach every client (some were busy): push it again as soon as `kick`
   * says they caught up, or else after the poll's interval; within the budget, unless a newer
   * state comes first.
   */
  retry(state: T): void {
    if (this.closed) return;
    const entry = this.entry(state.id);
    if (entry.pending || state.version < entry.version) return;
    entry.pending = state;
    entry.retryAt = entry.lastEmitAt + this.intervalMs;
    this.dirty.delete(state.id);
    this.dirty.set(state.id, entry);
    this.arm(entry.retryAt);
  }

  /** Busy clients caught up: the states held back for them are due now (on the next turn). */
  kick(): void {
    if (this.closed) return;
    const now = this.now();
    let any = false;
    for (const entry of this.dirty.values()) {
      if (entry.retryAt === null) continue;
      entry.retryAt = now;
      any = true;
    }
    if (any) this.arm(now);
  }

  /** The clients got this state another way (e.g. `new_poll_sent`): nothing older follows. */
  seen(state: Versioned): void {
    if (this.closed) return;
    const entry = this.entry(state.id);
    entry.version = Math.max(entry.version, state.version);
    if (entry.pending && entry.pending.version <= entry.version) {
      entry.pending = null;
      this.dirty.delete(state.id);
    }
  }

  /** Polls waiting for their turn. */
  get waiting(): number {
    return this.dirty.size;
  }

  /** Drops what is pending and clears the timer. Idempotent. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.entries.clear();
    this.dirty.clear();
  }

  private entry(id: string): Entry<T> {
    let entry = this.entries.get(id);
    if (!entry) {
      entry = { version: -1, pending: null, lastEmitAt: Number.NEGATIVE_INFINITY, retryAt: null };
      this.entries.set(id, entry);
    }
    return entry;
  }

  /** When changes stop for `quietAfterMs`, the budget refills at its quiet rate. */
  private get quietFrom(): number {
    return this.changedAt + this.quietAfterMs;
  }

  private refill(now: number): void {
    const rate = this.rate();
    if (rate === Number.POSITIVE_INFINITY) return;
    const quietRate = this.quietRate?.() ?? 16 * rate;
    // The part of the elapsed time before the quiet began refills at the busy rate.
    const busyUntil = Math.min(now, Math.max(this.refilledAt, this.quietFrom));
    const added =
      ((busyUntil - this.refilledAt) / 1000) * rate + ((now - busyUntil) / 1000) * quietRate;
    this.tokens = Math.min(rate, this.tokens + added);
    this.refilledAt = now;
  }

  /** When the budget, out now, is positive again (or the quiet begins, to reckon anew). */
  private refilledBy(now: number): number {
    const quiet = now >= this.quietFrom;
    const wait = Math.ceil(
      (-this.tokens / (quiet ? (this.quietRate?.() ?? 16 * this.rate()) : this.rate())) * 1000,
    );
    return quiet ? now + wait + 1 : Math.min(now + wait + 1, Math.ceil(this.quietFrom) + 1);
  }

  /** Emits every dirty poll whose interval is over, while the budget lasts; then re-arms. */
  private run(): void {
    if (this.closed) return;
    const now = this.now();
    this.refill(now);
    let nextAt = Number.POSITIVE_INFINITY;
    let turn = 0;
    for (const [id, entry] of this.dirty) {
      const dueAt = entry.retryAt ?? entry.lastEmitAt + this.intervalMs;
      if (dueAt > now) {
        nextAt = Math.min(nextAt, dueAt);
        continue;
      }
      if (turn >= this.bytesPerTurn) {
        // Enough for one go: the rest continues on the next turn of the event loop.
        nextAt = now;
        break;
      }
      if (this.tokens <= 0) {
        // Out of budget: wait until it is positive again (the oldest-dirty poll goes first).
        nextAt = Math.min(nextAt, this.refilledBy(now));
        break;
      }
      const state = entry.pending;
      this.dirty.delete(id);
      if (!state) continue;
      entry.pending = null;
      entry.retryAt = null;
      entry.version = state.version;
      entry.lastEmitAt = now;
      const cost = this.emit(state);
      if (this.closed) return;
      if (typeof cost === 'number') {
        this.tokens -= cost;
        turn += cost;
      }
    }
    this.arm(nextAt);
  }

  private arm(at: number): void {
    if (at === Number.POSITIVE_INFINITY || at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.run();
      },
      Math.max(0, at - this.now()),
    );
    this.timer.unref();
  }
}
