import { type EventLoopUtilization, performance } from 'node:perf_hooks';

export interface LoadAwareBudget {
  /** Bytes per second while the event loop has time to spare. */
  idleBytesPerSec: number;
  /** Bytes per second while it is busy (votes are arriving faster than a person could follow). */
  busyBytesPerSec: number;
  /** The share of the last window the loop was busy above which it counts as busy (0..1). */
  busyAbove?: number;
  /** How long a window is, in ms. */
  windowMs?: number;
  /** This thread's event-loop utilisation, as `performance.eventLoopUtilization` (for tests). */
  utilization?: (now?: EventLoopUtilization, before?: EventLoopUtilization) => EventLoopUtilization;
  now?: () => number;
}

/**
 * The GUI push budget by how busy this thread was in the last window: full-state pushes may
 * take `idleBytesPerSec` while the event loop has time to spare (a few busy polls reach the
 * GUI about 20 times a second), and only `busyBytesPerSec` while it is busy, so that under a
 * flood of votes the pushes do not take the time the votes need (docs/performance.md, issue 21).
 */
export const loadAwareBudget = ({
  idleBytesPerSec,
  busyBytesPerSec,
  busyAbove = 0.5,
  windowMs = 250,
  utilization = performance.eventLoopUtilization,
  now = () => performance.now(),
}: LoadAwareBudget): (() => number) => {
  let mark = utilization();
  let markedAt = now();
  let rate = idleBytesPerSec;
  return () => {
    const at = now();
    if (at - markedAt >= windowMs) {
      const next = utilization();
      const busy = utilization(next, mark).utilization > busyAbove;
      rate = busy ? busyBytesPerSec : idleBytesPerSec;
      mark = next;
      markedAt = at;
    }
    return rate;
  };
};
