import type { Logger } from '@pollmasters/shared';
import type { Redis } from 'ioredis';
import { delay } from '../delay.js';
import type { EventPosition, SessionReport } from '../session/sessionReport.js';
import { decodeReport } from './streamCodec.js';
import { streamKeys } from './streamKeys.js';

/** What the follower feeds: a session's read model and events (../session/sessionService.ts). */
export interface FollowedSession {
  readonly sessionId: string;
  applyReport(report: SessionReport, at?: EventPosition): void;
  positionAt(at: EventPosition): void;
}

interface Followed {
  session: FollowedSession;
  key: string;
  /** The id of the last entry applied ('0' before the first). */
  lastId: string;
  /** The epoch the session is positioned in. */
  epoch: string | null;
  /** The seq of the last entry read; null before the first. */
  lastSeq: number | null;
  /** Waiting at a gap (`onGap`) for `follow` or `release`: not read meanwhile. */
  held: boolean;
}

export interface StreamFollowerOptions {
  /** A connection to copy: the follower blocks on a connection of its own. */
  redis: Redis;
  prefix: string;
  logger: Logger;
  /** How long one read blocks; following another session wakes it at once. */
  blockMs?: number;
  /** Entries read at a time, over all sessions. */
  count?: number;
  /**
   * Seqs were skipped: events that never reached the stream (an append failed) or that were
   * trimmed before this node read them. The session's read model may miss them. Returning
   * true holds the session before the entry after the gap (it is not applied, nor anything
   * after it) until `follow` feeds it from elsewhere or `release` goes on with that entry.
   */
  onGap?: (sessionId: string, missing: { from: number; to: number }) => boolean;
}

const BLOCK_MS = 2_000;

/** The fields of a stream entry (`q`, `e`, `d`: ./streamAppender.ts); null if one is missing. */
export const entryFields = (
  fields: string[],
): { seq: number; epoch: string; data: string } | null => {
  let seq: number | undefined;
  let epoch: string | undefined;
  let data: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1]!;
    if (fields[i] === 'q') seq = Number(value);
    else if (fields[i] === 'e') epoch = value;
    else if (fields[i] === 'd') data = value;
  }
  if (seq === undefined || !Number.isSafeInteger(seq) || !epoch || data === undefined) return null;
  return { seq, epoch, data };
};

/**
 * A node's reader of the event streams of the sessions it serves (every node, the owner too):
 * one blocking `XREAD` over all of them, on a connection of its own; each entry is applied to
 * its session with its position, in the stream's order, so every node has the same events in
 * the same order.
 */
export class StreamFollower {
  private readonly followed = new Map<string, Followed>();
  private readonly byKey = new Map<string, Followed>();
  private readonly reader: Redis;
  private readerId: number | null = null;
  private closed = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;

  constructor(private readonly options: StreamFollowerOptions) {
    // Not the copied connection's command timeout: a read blocks for `blockMs` on purpose.
    this.reader = options.redis.duplicate({
      commandTimeout: undefined,
      blockingTimeout: (options.blockMs ?? BLOCK_MS) + 5_000,
    });
    this.reader.on('ready', () => {
      this.reader.client('ID').then(
        (id) => {
          this.readerId = Number(id);
        },
        () => {},
      );
    });
    this.reader.on('error', (err) => options.logger.debug({ err }, 'stream reader connection'));
  }

  /** Starts reading. */
  start(): void {
    this.loop ??= this.run();
  }

  /**
   * Feeds `session` from its stream, from the entry after `fromId`; `epoch` is the epoch its
   * read model is positioned in (an entry of another epoch positions it again).
   */
  follow(session: FollowedSession, from: { fromId: string; epoch: string | null }): void {
    this.unfollow(session.sessionId);
    const followed: Followed = {
      session,
      key: streamKeys(this.options.prefix, session.sessionId).stream,
      lastId: from.fromId,
      epoch: from.epoch,
      lastSeq: null,
      held: false,
    };
    this.followed.set(session.sessionId, followed);
    this.byKey.set(followed.key, followed);
    this.interrupt();
  }

  unfollow(sessionId: string): void {
    const followed = this.followed.get(sessionId);
    if (!followed) return;
    this.followed.delete(sessionId);
    this.byKey.delete(followed.key);
  }

  /**
   * Goes on reading a session held at a gap from the entry after it, without the state it
   * missed (what it holds then lacks the gap's events).
   */
  release(sessionId: string): void {
    const followed = this.followed.get(sessionId);
    if (!followed?.held) return;
    followed.held = false;
    followed.lastSeq = null;
    this.interrupt();
  }

  /** The id of the last entry applied to a session (what its read model holds). */
  lastIdOf(sessionId: string): string | undefined {
    return this.followed.get(sessionId)?.lastId;
  }

  /** Stops reading. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    this.reader.disconnect();
    await this.loop;
  }

  /** Wakes the read blocked on the sessions followed before (it then reads them all). */
  private interrupt(): void {
    if (this.wake) {
      this.wake();
      return;
    }
    if (this.readerId !== null) {
      this.options.redis.client('UNBLOCK', this.readerId).catch(() => {});
    }
  }

  private async run(): Promise<void> {
    const { blockMs = BLOCK_MS, count = 512, logger } = this.options;
    while (!this.closed) {
      const all = [...this.followed.values()].filter((f) => !f.held);
      if (all.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = null;
        continue;
      }
      const reading = new Set(all);
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await this.reader.xread(
          'COUNT',
          count,
          'BLOCK',
          blockMs,
          'STREAMS',
          ...all.map((f) => f.key),
          ...all.map((f) => f.lastId),
        )) as [string, [string, string[]][]][] | null;
      } catch (err) {
        if (this.closed) break;
        logger.warn({ err }, 'reading the event streams failed; retrying');
        await delay(500);
        continue;
      }
      for (const [key, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          const followed = this.byKey.get(key);
          // Unfollowed (or followed again from elsewhere, or held) while this read was on its way.
          if (!followed || !reading.has(followed) || followed.held) break;
          if (this.apply(followed, id, fields)) followed.lastId = id;
        }
      }
    }
  }

  /** Applies an entry to its session; false when the session is held before it (a gap). */
  private apply(followed: Followed, id: string, fields: string[]): boolean {
    const { logger } = this.options;
    const { sessionId } = followed.session;
    const entry = entryFields(fields);
    if (!entry) {
      logger.warn({ sessionId, id }, 'skipped a stream entry without seq, epoch or event');
      return true;
    }
    try {
      const at = { epoch: entry.epoch, seq: entry.seq };
      if (followed.epoch !== entry.epoch) {
        // A new stream (its keys were lost): ids start over in its epoch.
        followed.epoch = entry.epoch;
        followed.lastSeq = null;
        followed.session.positionAt({ epoch: entry.epoch, seq: entry.seq - 1 });
      }
      const before = followed.lastSeq;
      followed.lastSeq = entry.seq;
      if (before !== null && entry.seq > before + 1) {
        const missing = { from: before + 1, to: entry.seq - 1 };
        logger.warn({ sessionId, missing }, 'events of the session are missing from its stream');
        if (this.options.onGap?.(sessionId, missing) === true) {
          followed.held = true;
          followed.lastSeq = before;
          return false;
        }
      }
      followed.session.applyReport(decodeReport(entry.data), at);
    } catch (err) {
      logger.warn({ err, sessionId, id }, 'skipped a stream entry that could not be applied');
    }
    return true;
  }
}
