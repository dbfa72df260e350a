import type { SessionService } from '../session/sessionService.js';
import { type ReadModelCall, type ReadModelPage, readModelPages } from './remoteCommands.js';

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export interface GapTakeoverOptions {
  /** Asks the session's owner for a page of its read model. */
  call: ReadModelCall;
  /** The seq of the last entry missing: the owner's copy must be at it or after. */
  through: number;
  /** Copies asked for before giving up (the owner may not have read that far yet). */
  attempts?: number;
  delayMs?: number;
}

/**
 * A follower held at a gap in a session's stream (./streamFollower.ts) takes the owner's state
 * of the session, as of a position at or after the gap: each poll it differs on replaced, and
 * its subscribers resynced at that position (../session/sessionMirror.ts `takeOver`). Returns
 * where to follow the stream from then: the first page's entry (later pages may be newer:
 * replaying the stream from there changes nothing they hold). Null when the owner's copy is of
 * another epoch (the stream was made anew: join again).
 * @throws when no copy at or after the gap came (the owner did not answer, or lagged too)
 */
export const takeOwnersState = async (
  service: SessionService,
  options: GapTakeoverOptions,
): Promise<ReadModelPage | null> => {
  const { attempts = 20, delayMs = 100 } = options;
  for (let attempt = 1; ; attempt++) {
    let failure: unknown = null;
    try {
      const pages: ReadModelPage[] = [];
      for await (const page of readModelPages(options.call)) pages.push(page);
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
    if (attempt >= attempts) throw failure;
    await delay(delayMs);
  }
};
