import { countVotes, type Poll, type PollEvent } from '@pollmasters/shared';
import { eventForPoll, type LogEntry, PollEventLog } from './eventLog.js';
import { EventQueue, QueueOverflowError } from './eventQueue.js';

/** One event of `polls.updates` with the id to resume after it. */
export interface IdentifiedEvent {
  id: string;
  event: PollEvent;
}

export interface PollUpdatesOptions {
  log: PollEventLog;
  /** The current polls (the read model), for resyncs. */
  polls: { listPolls(): Poll[]; getPoll(id: string): Poll | undefined };
  pollId?: string | undefined;
  lastEventId?: string | null | undefined;
  /** Without a resumable `lastEventId`: begin with every poll's state (true) or only `synced`. */
  snapshot?: boolean;
  signal?: AbortSignal | undefined;
  /** Events that may wait for a slow subscriber before its subscription is ended. */
  maxQueue?: number;
  /** Bytes waiting on the subscriber's socket, and how many are too many. */
  backpressure?: { bufferedAmount: () => number; maxBytes: number } | undefined;
}

/**
 * The events of `polls.updates`, resumable by id.
 *
 * Live events are queued from the start, before the backlog is read, and deduplicated by seq,
 * so nothing falls between backlog and live events and nothing comes twice. A `lastEventId`
 * that this log can still resume gets exactly the (filtered) events after it; any other id
 * (another process run, older than the log keeps, malformed) gets a `pollState` per
 * (filtered) poll and `synced`, then live events. A cluster node that missed events of its
 * stream logs the owner's states of the polls concerned at one position: they come the same way
 * (`pollState`s with ids `<id>-r<n>`, then `synced` with `<id>`), live or in a backlog.
 */
export async function* pollUpdates(
  options: PollUpdatesOptions,
): AsyncGenerator<IdentifiedEvent, void, undefined> {
  const { log, pollId, signal } = options;
  const queue = new EventQueue<LogEntry>(options.maxQueue ?? 1_000, signal);
  const matches = (entry: LogEntry) => pollId === undefined || entry.pollIds.includes(pollId);
  const eventOf = (entry: LogEntry) =>
    pollId === undefined ? entry.event : eventForPoll(entry, pollId);
  // A poll of a cluster node's resync (`PollEventLog.resynced`), then `synced` after its last
  // poll (or after its one poll, for a subscription to one poll).
  const resyncPart = function* (entry: LogEntry, part: NonNullable<LogEntry['part']>) {
    const id = log.idOf(entry.seq);
    yield { id: `${id}-r${part.index}`, event: entry.event };
    if (part.last || pollId !== undefined) yield { id, event: { type: 'synced' as const } };
  };
  // Only this subscriber's polls are queued: other polls' events neither cost it a wake-up
  // nor count towards its queue's bound.
  const unsubscribe = log.subscribe((entry) => {
    if (matches(entry)) queue.push(entry);
  });
  try {
    const head = log.head;
    const cursor = PollEventLog.parseId(options.lastEventId);
    const backlog = cursor ? log.after(cursor) : null;
    if (backlog) {
      for (const entry of backlog) {
        if (!matches(entry)) continue;
        if (entry.part) yield* resyncPart(entry, entry.part);
        else yield { id: log.idOf(entry.seq), event: eventOf(entry) };
      }
    } else {
      // A fresh start or a resync: the read model is exactly the state after `head`, since
      // the log is appended synchronously with every change of it.
      const resync = options.lastEventId != null || (options.snapshot ?? true);
      if (resync) {
        const polls =
          pollId === undefined ? options.polls.listPolls() : [options.polls.getPoll(pollId)];
        let i = 0;
        for (const poll of polls) {
          if (!poll) continue;
          // Not a resumable id on purpose: a client cut off mid-resync gets a whole resync again.
          const id = `${log.idOf(head)}-r${i++}`;
          yield { id, event: { type: 'pollState', poll, counts: countVotes(poll) } };
        }
      }
      yield { id: log.idOf(head), event: { type: 'synced' } };
    }
    for await (const entry of queue) {
      if (entry.seq <= head) continue;
      const pressure = options.backpressure;
      if (pressure && pressure.bufferedAmount() > pressure.maxBytes) {
        throw new QueueOverflowError(
          'subscriber is not reading its socket fast enough; resubscribe with lastEventId',
        );
      }
      if (entry.part) yield* resyncPart(entry, entry.part);
      else yield { id: log.idOf(entry.seq), event: eventOf(entry) };
    }
  } finally {
    unsubscribe();
    queue.end();
  }
}
