import { randomBytes } from 'node:crypto';
import { countVotes, type Poll, type PollEvent, type PollVotes } from '@pollmasters/shared';
import type { PollUpdate } from '../session/readModel.js';

/** A poll event with its place in the log. */
export interface LogEntry {
  /** 1, 2, 3, ... within this process (this epoch). */
  seq: number;
  event: PollEvent & { type: 'pollSent' | 'votes' | 'pollState' };
  /** The polls it is about: one, or for `votes` every poll of its batch. */
  pollIds: readonly string[];
}

/**
 * The part of an entry's event that concerns one poll, for a subscription filtered to it:
 * a `votes` event of several polls narrowed to that poll's entry.
 */
export const eventForPoll = (entry: LogEntry, pollId: string): LogEntry['event'] => {
  const { event } = entry;
  if (event.type !== 'votes') return event;
  if (event.polls.length === 1 && event.polls[0]!.pollId === pollId) return event;
  return { type: 'votes', polls: event.polls.filter((p) => p.pollId === pollId) };
};

/** A position in the log, as parsed from an event id. */
export interface Cursor {
  epoch: string;
  seq: number;
}

export interface PollEventLogOptions {
  /** Events kept for resuming; older ones are dropped (resuming from them means a resync). */
  capacity?: number;
  /**
   * Vote changes kept for resuming, over all kept events (a `votes` event holds a whole batch,
   * up to thousands; a poll's whole state counts its voters): older events are dropped once
   * the kept ones hold more.
   */
  maxChanges?: number;
  /** Identifies this process's run in event ids; random by default. */
  epoch?: string;
}

/**
 * The in-process log of poll events behind `polls.updates`: a bounded queue (by events and by
 * the vote changes they hold) whose entries have ids `${epoch}-${seq}`. The epoch changes with
 * every process, so an id from an earlier run is recognised as such and answered with a resync
 * instead of a wrong replay.
 */
export class PollEventLog {
  readonly epoch: string;
  readonly capacity: number;
  readonly maxChanges: number;
  /** The kept entries, oldest first from `first`: their seqs are consecutive. */
  private entries: (LogEntry | undefined)[] = [];
  private first = 0;
  private changesKept = 0;
  private seq = 0;
  private readonly listeners = new Set<(entry: LogEntry) => void>();

  constructor(options: PollEventLogOptions = {}) {
    this.capacity = options.capacity ?? 10_000;
    this.maxChanges = options.maxChanges ?? 50_000;
    for (const [name, value] of [
      ['capacity', this.capacity],
      ['maxChanges', this.maxChanges],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`${name} must be a positive integer`);
      }
    }
    this.epoch = options.epoch ?? `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    if (!/^[a-z0-9]+$/.test(this.epoch)) throw new RangeError('epoch must be [a-z0-9]+');
  }

  /** The seq of the newest event; 0 before the first. */
  get head(): number {
    return this.seq;
  }

  /** The seq of the oldest event still kept (head + 1 when empty). */
  get oldest(): number {
    return this.entries[this.first]?.seq ?? this.seq + 1;
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
    return this.append({ type: 'pollSent', poll, counts: countVotes(poll) }, [poll.id]);
  }

  /**
   * Polls changed together (one batch of the worker, or a resync): a `pollState` for each
   * update without changes (its whole state was replaced), one `votes` event for the rest.
   */
  pollsUpdated(updates: readonly PollUpdate[]): LogEntry[] {
    const added: LogEntry[] = [];
    const polls: PollVotes[] = [];
    for (const update of updates) {
      if (update.changes.length === 0) {
        const { poll, counts } = update;
        added.push(this.append({ type: 'pollState', poll, counts }, [update.pollId]));
        continue;
      }
      polls.push({
        pollId: update.pollId,
        chatId: update.chatId,
        version: update.version,
        changes: update.changes,
        counts: update.counts,
        voterCount: update.voterCount,
        unknownOptionVotes: update.unknownOptionVotes,
      });
    }
    if (polls.length > 0) {
      added.push(
        this.append(
          { type: 'votes', polls },
          polls.map((p) => p.pollId),
        ),
      );
    }
    return added;
  }

  /**
   * The events after `cursor`, or null when they cannot all be given: another epoch, a seq
   * this log never issued, or events already dropped from the log.
   */
  after(cursor: Cursor): LogEntry[] | null {
    if (cursor.epoch !== this.epoch || cursor.seq > this.seq || cursor.seq + 1 < this.oldest) {
      return null;
    }
    const from = this.first + (cursor.seq + 1 - this.oldest);
    return this.entries.slice(from) as LogEntry[];
  }

  /** Calls `listener` with every event appended from now on, synchronously; returns the off switch. */
  subscribe(listener: (entry: LogEntry) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private append(event: LogEntry['event'], pollIds: readonly string[]): LogEntry {
    this.seq += 1;
    const entry: LogEntry = { seq: this.seq, event, pollIds };
    this.entries.push(entry);
    this.changesKept += changesIn(entry);
    // The newest entry is always kept, however many changes it holds.
    while (
      this.entries.length - this.first > 1 &&
      (this.entries.length - this.first > this.capacity || this.changesKept > this.maxChanges)
    ) {
      this.changesKept -= changesIn(this.entries[this.first]!);
      this.entries[this.first] = undefined;
      this.first += 1;
    }
    if (this.first > 1024 && this.first * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.first);
      this.first = 0;
    }
    for (const listener of this.listeners) listener(entry);
    return entry;
  }
}

/**
 * What an entry weighs against `maxChanges`: its vote changes, or the voters of the whole state
 * it carries (a snapshot's states must not keep a copy of every voter of the session).
 */
const changesIn = ({ event }: LogEntry): number =>
  event.type === 'votes'
    ? event.polls.reduce((n, p) => n + p.changes.length, 0)
    : event.poll.voters.length;
