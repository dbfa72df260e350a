import { randomBytes } from 'node:crypto';
import { countVotes, type Poll, type PollEvent } from '@pollmasters/shared';
import type { PollUpdate } from '../session/readModel.js';

/** A poll event with its place in the log. */
export interface LogEntry {
  /** 1, 2, 3, ... within this process (this epoch). */
  seq: number;
  event: PollEvent & { type: 'pollSent' | 'votes' | 'pollState' };
  pollId: string;
}

/** A position in the log, as parsed from an event id. */
export interface Cursor {
  epoch: string;
  seq: number;
}

export interface PollEventLogOptions {
  /** Events kept for resuming; older ones are dropped (resuming from them means a resync). */
  capacity?: number;
  /** Identifies this process's run in event ids; random by default. */
  epoch?: string;
}

/**
 * The in-process log of poll events behind `polls.updates`: a bounded ring buffer whose
 * entries have ids `${epoch}-${seq}`. The epoch changes with every process, so an id from an
 * earlier run is recognised as such and answered with a resync instead of a wrong replay.
 */
export class PollEventLog {
  readonly epoch: string;
  readonly capacity: number;
  private readonly ring: (LogEntry | undefined)[];
  private seq = 0;
  private readonly listeners = new Set<(entry: LogEntry) => void>();

  constructor(options: PollEventLogOptions = {}) {
    this.capacity = options.capacity ?? 10_000;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) {
      throw new RangeError('capacity must be a positive integer');
    }
    this.epoch = options.epoch ?? `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    if (!/^[a-z0-9]+$/.test(this.epoch)) throw new RangeError('epoch must be [a-z0-9]+');
    this.ring = new Array(this.capacity);
  }

  /** The seq of the newest event; 0 before the first. */
  get head(): number {
    return this.seq;
  }

  /** The seq of the oldest event still kept (head + 1 when empty). */
  get oldest(): number {
    return Math.max(1, this.seq - this.capacity + 1);
  }

  idOf(seq: number): string {
    return `${this.epoch}-${seq}`;
  }

  /** Parses an id of this log's form (any epoch); null for anything else. */
  static parseId(id: string | null | undefined): Cursor | null {
    const match = id ? /^([a-z0-9]+)-(\d{1,15})$/.exec(id) : null;
    return match ? { epoch: match[1]!, seq: Number(match[2]) } : null;
  }

  /** A new poll. */
  pollSent(poll: Poll): LogEntry {
    return this.append({ type: 'pollSent', poll, counts: countVotes(poll) }, poll.id);
  }

  /** A poll changed; no `changes` means its whole state was resynced. */
  pollUpdated(update: PollUpdate): LogEntry {
    if (update.changes.length === 0) {
      const { poll, counts } = update;
      return this.append({ type: 'pollState', poll, counts }, update.pollId);
    }
    return this.append(
      {
        type: 'votes',
        pollId: update.pollId,
        chatId: update.chatId,
        version: update.version,
        changes: update.changes,
        counts: update.counts,
        voterCount: update.voterCount,
        unknownOptionVotes: update.unknownOptionVotes,
      },
      update.pollId,
    );
  }

  /**
   * The events after `cursor`, or null when they cannot all be given: another epoch, a seq
   * this log never issued, or events already dropped from the ring.
   */
  after(cursor: Cursor): LogEntry[] | null {
    if (cursor.epoch !== this.epoch || cursor.seq > this.seq || cursor.seq + 1 < this.oldest) {
      return null;
    }
    const entries: LogEntry[] = [];
    for (let s = cursor.seq + 1; s <= this.seq; s++) {
      const entry = this.ring[s % this.capacity];
      if (entry?.seq !== s) return null;
      entries.push(entry);
    }
    return entries;
  }

  /** Calls `listener` with every event appended from now on, synchronously; returns the off switch. */
  subscribe(listener: (entry: LogEntry) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private append(event: LogEntry['event'], pollId: string): LogEntry {
    this.seq += 1;
    const entry: LogEntry = { seq: this.seq, event, pollId };
    this.ring[this.seq % this.capacity] = entry;
    for (const listener of this.listeners) listener(entry);
    return entry;
  }
}
