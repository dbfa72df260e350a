import { countVotes, type Poll, type PollEvent } from '@pollmasters/shared';
import type { PollUpdate } from '../session/readModel.js';
import { type EventPosition, isEpoch, newEpoch } from '../session/sessionReport.js';
import { LoggedVotes } from './loggedVotes.js';

/** A poll event with its place in the log. */
export interface LogEntry {
  /**
   * 1, 2, 3, ... within this process (this epoch); in a cluster, the event's place in its
   * session's stream (increasing, with gaps where a stream event is not a poll event).
   */
  seq: number;
  /** A `votes` event is kept in columns (./loggedVotes.ts), and reads as the event. */
  event: (PollEvent & { type: 'pollSent' | 'pollState' }) | LoggedVotes;
  /** The polls it is about: one, or for `votes` every poll of its batch. */
  pollIds: readonly string[];
  /**
   * A `pollState` of a resync at one position (`resynced`): the entries of a resync share its
   * seq; a subscriber gets each with the id `<id>-r<index>`, then `synced` with `<id>`.
   */
  part?: { index: number; last: boolean };
}

/**
 * The part of an entry's event that concerns one poll, for a subscription filtered to it:
 * a `votes` event of several polls narrowed to that poll's entry.
 */
export const eventForPoll = (entry: LogEntry, pollId: string): LogEntry['event'] => {
  const { event } = entry;
  if (!(event instanceof LoggedVotes)) return event;
  const part = event.forPoll(pollId);
  if (!part) throw new RangeError(`poll ${pollId} is not in this event`);
  return part;
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
 * instead of a wrong replay. On a cluster node the ids are those of the session's stream
 * (`restartAt`, and events with their position), so that they mean the same on every node.
 */
export class PollEventLog {
  private currentEpoch: string;
  readonly capacity: number;
  readonly maxChanges: number;
  /** The kept entries, oldest first from `first`: their seqs increase (with gaps on a cluster node). */
  private entries: (LogEntry | undefined)[] = [];
  private first = 0;
  private changesKept = 0;
  private seq = 0;
  /** The log holds every event after this seq (older ones were dropped or are another node's). */
  private floor = 0;
  /** Whether events come with their stream positions (a cluster node): others are not logged. */
  private positioned = false;
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
    this.currentEpoch = options.epoch ?? newEpoch();
    if (!isEpoch(this.currentEpoch)) throw new RangeError('epoch must be [a-z0-9]+');
  }

  get epoch(): string {
    return this.currentEpoch;
  }

  /**
   * From now on ids are the session stream's (`epoch`) and the log holds every event after
   * `seq`: what it held is dropped (an id of it gets a resync), and only events that carry a
   * position after `seq` are logged.
   */
  restartAt(at: EventPosition): void {
    if (!isEpoch(at.epoch)) throw new RangeError('epoch must be [a-z0-9]+');
    this.currentEpoch = at.epoch;
    this.positioned = true;
    this.entries = [];
    this.first = 0;
    this.changesKept = 0;
    this.seq = at.seq;
    this.floor = at.seq;
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
    return `${this.currentEpoch}-${seq}`;
  }

  /** Parses an id of this log's form (any epoch); null for anything else. */
  static parseId(id: string | null | undefined): Cursor | null {
    const match = id ? /^([a-z0-9]+)-(\d{1,15})$/.exec(id) : null;
    return match ? { epoch: match[1]!, seq: Number(match[2]) } : null;
  }

  /** A new poll (`at`: its place in the session's stream, on a cluster node). */
  pollSent(poll: Poll, at?: EventPosition): LogEntry | null {
    if (!this.takes(at)) return null;
    return this.append({ type: 'pollSent', poll, counts: countVotes(poll) }, [poll.id], at);
  }

  /**
   * Polls changed together (one batch of the worker, or a resync): a `pollState` for each
   * update without changes (its whole state was replaced), one `votes` event for the rest.
   */
  pollsUpdated(updates: readonly PollUpdate[], at?: EventPosition): LogEntry[] {
    const added: LogEntry[] = [];
    if (!this.takes(at)) return added;
    // A stream event makes at most one entry (a resync reports one poll per event).
    if (at && updates.length > 1 && updates.some((u) => u.changes.length === 0)) {
      throw new RangeError('a positioned update carries one whole state at most');
    }
    const polls: PollUpdate[] = [];
    for (const update of updates) {
      if (update.changes.length === 0) {
        const { poll, counts } = update;
        added.push(this.append({ type: 'pollState', poll, counts }, [update.pollId], at));
        continue;
      }
      polls.push(update);
    }
    if (polls.length > 0) {
      added.push(
        this.append(
          // From the read model's changes, counts and options, which are not kept as objects
          // of the event (./loggedVotes.ts).
          LoggedVotes.of(polls),
          polls.map((p) => p.pollId),
          at,
        ),
      );
    }
    return added;
  }

  /**
   * The whole states of polls at one position, all at its seq (a cluster node that missed
   * events of its stream took them from the owner: ../session/sessionMirror.ts `takeOver`).
   */
  resynced(polls: readonly Poll[], at: EventPosition): LogEntry[] {
    if (!this.takes(at)) return [];
    return polls.map((poll, index) =>
      this.append({ type: 'pollState', poll, counts: countVotes(poll) }, [poll.id], at, {
        index,
        last: index === polls.length - 1,
      }),
    );
  }

  /**
   * The events after `cursor`, or null when they cannot all be given: another epoch, a seq
   * this log never issued, or events already dropped from the log.
   */
  after(cursor: Cursor): LogEntry[] | null {
    if (cursor.epoch !== this.currentEpoch || cursor.seq > this.seq || cursor.seq < this.floor) {
      return null;
    }
    // The first kept entry after the cursor (seqs increase, with gaps on a cluster node).
    let lo = this.first;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.seq <= cursor.seq) lo = mid + 1;
      else hi = mid;
    }
    return this.entries.slice(lo) as LogEntry[];
  }

  /** Calls `listener` with every event appended from now on, synchronously; returns the off switch. */
  subscribe(listener: (entry: LogEntry) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Whether an event goes in: positioned ones (after the head) once restarted, others before. */
  private takes(at: EventPosition | undefined): boolean {
    if (!at) return !this.positioned;
    return this.positioned && at.epoch === this.currentEpoch && at.seq > this.seq;
  }

  private append(
    event: LogEntry['event'],
    pollIds: readonly string[],
    at?: EventPosition,
    part?: LogEntry['part'],
  ): LogEntry {
    this.seq = at ? at.seq : this.seq + 1;
    const entry: LogEntry = part
      ? { seq: this.seq, event, pollIds, part }
      : { seq: this.seq, event, pollIds };
    this.entries.push(entry);
    this.changesKept += changesIn(entry);
    // The newest entry is always kept, however many changes it holds.
    while (
      this.entries.length - this.first > 1 &&
      (this.entries.length - this.first > this.capacity || this.changesKept > this.maxChanges)
    ) {
      const dropped = this.entries[this.first]!;
      this.changesKept -= changesIn(dropped);
      this.floor = dropped.seq;
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
  event instanceof LoggedVotes ? event.changeCount : event.poll.voters.length;
