import type { Poll } from '@pollmasters/shared';

interface Entry {
  /** The newest version the clients were given. */
  version: number;
  /** The newest state not given yet. */
  pending: Poll | null;
  timer: NodeJS.Timeout | null;
  lastEmitAt: number;
}

/**
 * Throttles full-state pushes per poll: at most one `emit` per poll per `intervalMs`, always
 * with the newest state, never an older version after a newer one. The first change after a
 * quiet interval goes out at once; changes within the interval go out together at its end.
 */
export class PollCoalescer {
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(
    private readonly intervalMs: number,
    private readonly emit: (poll: Poll) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new state of a poll; dropped when it is not newer than what was pushed or pending. */
  push(poll: Poll): void {
    if (this.closed) return;
    const entry = this.entry(poll.id);
    if (poll.version <= Math.max(entry.version, entry.pending?.version ?? -1)) return;
    entry.pending = poll;
    if (entry.timer) return;
    const wait = entry.lastEmitAt + this.intervalMs - this.now();
    if (wait <= 0) {
      this.flush(entry);
      return;
    }
    entry.timer = setTimeout(() => {
      entry.timer = null;
      this.flush(entry);
    }, wait);
    entry.timer.unref();
  }

  /** The clients got this state another way (e.g. `new_poll_sent`): nothing older follows. */
  seen(poll: Poll): void {
    if (this.closed) return;
    const entry = this.entry(poll.id);
    entry.version = Math.max(entry.version, poll.version);
    if (entry.pending && entry.pending.version <= entry.version) entry.pending = null;
  }

  /** Drops what is pending and clears the timers. Idempotent. */
  close(): void {
    this.closed = true;
    for (const entry of this.entries.values()) if (entry.timer) clearTimeout(entry.timer);
    this.entries.clear();
  }

  private entry(id: string): Entry {
    let entry = this.entries.get(id);
    if (!entry) {
      entry = { version: -1, pending: null, timer: null, lastEmitAt: Number.NEGATIVE_INFINITY };
      this.entries.set(id, entry);
    }
    return entry;
  }

  private flush(entry: Entry): void {
    const poll = entry.pending;
    if (!poll || this.closed) return;
    entry.pending = null;
    entry.version = poll.version;
    entry.lastEmitAt = this.now();
    this.emit(poll);
  }
}
