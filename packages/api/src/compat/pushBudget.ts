import { type EventLoopUtilization, performance } from 'node:perf_hooks';

export interface LoadAwareBudget {
  /** Bytes per second while the event loop has time to spare. */
  idleBytesPerSec: number;
  /** Bytes per second while it is busy (votes are arriving faster than a person could follow). */
  busyBytesPerSec: number;
  /** The share of the last window the loop was busy above which it counts as busy (0..1). */
  busyAbove?: number;
  /** Votes seen so far (a count that only grows), for the rate below. */
  votes?: () => number;
  /**
   * Votes per second over the last window above which pushes get the busy budget whatever the
   * loop's load: a flood that no person follows vote by vote, where each byte of state pushed is
   * CPU time the votes need. Below it only the loop's load decides, so that a machine busy with
   * other work does not by itself starve the GUI of the states it can follow.
   */
  busyAboveVotesPerSec?: number;
  /** How long a window is, in ms. */
  windowMs?: number;
  /** This thread's event-loop utilisation, as `performance.eventLoopUtilization` (for tests). */
  utilization?: (now?: EventLoopUtilization, before?: EventLoopUtilization) => EventLoopUtilization;
  now?: () => number;
}

/**
 * The GUI push budget by how busy this thread was in the last window: full-state pushes may
 * take `idleBytesPerSec` while the event loop has time to spare (a few busy polls reach the
 * GUI about 20 times a second), and only `busyBytesPerSec` while votes flood in or the loop is
 * busy, so that the pushes do not take the time the votes need (docs/performance.md, issue 21
 * and "Session 8").
 */
export const loadAwareBudget = ({
  idleBytesPerSec,
  busyBytesPerSec,
  busyAbove = 0.8,
  votes = () => 0,
  busyAboveVotesPerSec = Number.POSITIVE_INFINITY,
  windowMs = 250,
  utilization = performance.eventLoopUtilization,
  now = () => performance.now(),
}: LoadAwareBudget): (() => number) => {
  let mark = utilization();
  let markedAt = now();
  let votesAtMark = votes();
  let rate = idleBytesPerSec;
  return () => {
    const at = now();
    if (at - markedAt >= windowMs) {
      const next = utilization();
      const seen = votes();
      const flood = ((seen - votesAtMark) * 1000) / (at - markedAt) > busyAboveVotesPerSec;
      const busy = flood || utilization(next, mark).utilization > busyAbove;
      rate = busy ? busyBytesPerSec : idleBytesPerSec;
      mark = next;
      markedAt = at;
      votesAtMark = seen;
    }
    return rate;
  };
};
