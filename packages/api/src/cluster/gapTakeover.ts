import { PollMastersError } from '@pollmasters/shared';
import { delay } from '../delay.js';
import type { SessionService } from '../session/sessionService.js';
import { type ReadModelCall, type ReadModelPage, readModelPages } from './remoteCommands.js';

export interface GapTakeoverOptions {
  /** Asks the session's owner for a page of its read model. */
  call: ReadModelCall;
  /** The seq of the last entry missing: the owner's copy must be at it or after. */
  through: number;
  /**
   * How long one copy may take before it is asked for again (a reply can be lost while this
   * node's subscriber reconnects: it would wait for the calls' own timeout, 65 s by default).
   */
  copyTimeoutMs?: number;
  /** How long the session may stay held in all: then the takeover fails. */
  deadlineMs?: number;
  /** The wait before asking again (the owner may not have read that far yet). */
  delayMs?: number;
}

/** Every page of the owner's read model, or a TIMEOUT after `ms`. */
const copyWithin = async (call: ReadModelCall, ms: number): Promise<ReadModelPage[]> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PollMastersError('TIMEOUT', `no copy of the owner's state in ${ms} ms`)),
      ms,
    );
  });
  const copy = (async () => {
    const pages: ReadModelPage[] = [];
    for await (const page of readModelPages(call)) pages.push(page);
    return pages;
  })();
  try {
    return await Promise.race([copy, late]);
  } finally {
    clearTimeout(timer);
    copy.catch(() => {});
  }
};

/**
 * A follower held at a gap in a session's stream (./streamFollower.ts) takes the owner's state
 * of the session, as of a position at or after the gap: each poll it differs on replaced, and
 * its subscribers resynced at that position (../session/sessionMirror.ts `takeOver`). Returns
 * where to follow the stream from then: the first page's entry (later pages may be newer:
 * replaying the stream from there changes nothing they hold). Null when the owner's copy is of
 * another epoch (the stream was made anew: join again).
 * @throws when no copy at or after the gap came by the deadline (the owner did not answer, or
 *   lagged too)
 */
export const takeOwnersState = async (
  service: SessionService,
  options: GapTakeoverOptions,
): Promise<ReadModelPage | null> => {
  const { copyTimeoutMs = 5_000, deadlineMs = 30_000, delayMs = 100 } = options;
  const end = Date.now() + deadlineMs;
  for (;;) {
    let failure: unknown;
    try {
      const left = Math.max(1, Math.min(copyTimeoutMs, end - Date.now()));
      const pages = await copyWithin(options.call, left);
      const first = pages[0]!;
      if (first.epoch !== service.position?.epoch) return null;
      if (first.seq >= options.through && first.seq > service.position.seq) {
        const { polls: _polls, next: _next, streamId: _id, epoch, seq, ...state } = first;
        service.takeOver(
          state,
          pages.flatMap((p) => p.polls),
          { epoch, seq },
        );
        return first;
      }
      failure = new Error(`the owner's copy is at seq ${first.seq}, before ${options.through}`);
    } catch (err) {
      failure = err;
    }
    if (Date.now() + delayMs >= end) throw failure;
    await delay(delayMs);
  }
};
