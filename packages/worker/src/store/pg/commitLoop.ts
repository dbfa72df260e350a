import { Backoff, type Logger, type VoteChange } from '@pollmasters/shared';
import type { Awaitable } from '../pollBackend.js';
import { FencedError } from './pgSession.js';

/** The first retry of a failed commit after this long, doubling up to `RETRY_MAX_MS`. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5_000;

export interface CommitLoopDeps {
  /**
   * Commits everything queued now in one transaction, with the changes it stores; a failed
   * commit puts its writes back in front of the queue (ahead of anything newer) and rejects.
   */
  commitQueued(): Awaitable<VoteChange[]>;
  /** Whether anything is queued. */
  hasQueued(): boolean;
  /** The changes of a commit no flush asked for (a retry by the timer): announce them. */
  retried(changes: VoteChange[]): void;
  logger?: Logger | undefined;
}

/**
 * A session's vote commits on PostgreSQL, one in flight at a time. A flush made while one is
 * in flight waits for it, and what is queued then is taken only once it has settled: after a
 * success, the newer votes; after a failure, the failed writes first (put back in front of
 * the queue) and the newer ones behind them, in one transaction. So no batch ever commits
 * ahead of an older one, and the log's last row of a voter is their newest vote. A failed
 * commit is also tried again by a timer (with backoff) when no flush comes to take it.
 */
export class CommitLoop {
  /** The commit in flight; it settles (never rejects) once the commit has. */
  private inFlight: Promise<void> | null = null;
  /** The commit that starts when the one in flight settles: every flush made meanwhile. */
  private next: Promise<VoteChange[]> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly backoff = new Backoff(RETRY_FIRST_MS, RETRY_MAX_MS);
  private closed = false;

  constructor(private readonly deps: CommitLoopDeps) {}

  /** Whether a commit is in flight or waiting for one. */
  get busy(): boolean {
    return this.inFlight !== null || this.next !== null;
  }

  /**
   * Commits what is queued now, after the commit in flight; settles once it is stored. The
   * changes go to the first flush that waits for their commit (the others get none), and
   * only once stored: a failed commit rejects every flush that waited for it.
   */
  flush(): Promise<VoteChange[]> {
    if (this.next) return this.next.then(NONE);
    if (!this.inFlight) return this.start();
    const next = this.inFlight.then(() => {
      this.next = null;
      return this.start();
    });
    this.next = next;
    return next;
  }

  /** Stops the retry timer (the session closes: nothing is retried after it). */
  close(): void {
    this.closed = true;
    this.clearRetry();
  }

  private start(): Promise<VoteChange[]> {
    let commit: Promise<VoteChange[]>;
    try {
      commit = Promise.resolve(this.deps.commitQueued());
    } catch (err) {
      commit = Promise.reject(err);
    }
    const inFlight = commit.then(this.stored, this.failed);
    this.inFlight = inFlight;
    return commit;
  }

  private readonly stored = (): void => {
    this.inFlight = null;
    this.backoff.reset();
    this.clearRetry();
  };

  private readonly failed = (err: unknown): void => {
    this.inFlight = null;
    // A fenced session has a newer owner: it stops, and nothing of it may be written again.
    if (err instanceof FencedError || this.closed || this.retryTimer) return;
    const retryInMs = this.backoff.next();
    this.deps.logger?.warn({ err, retryInMs }, 'votes not stored; retrying');
    this.retryTimer = setTimeout(this.retry, retryInMs);
    this.retryTimer.unref();
  };

  /** The timer: commits what waits unless a flush is at it already (it retries in turn). */
  private readonly retry = (): void => {
    this.retryTimer = null;
    if (this.closed || this.busy || !this.deps.hasQueued()) return;
    this.start().then(
      (changes) => {
        if (changes.length) this.deps.retried(changes);
      },
      () => {},
    );
  };

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}

const NONE = (): VoteChange[] => [];
