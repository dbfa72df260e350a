import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of the calling thread since it started, in microseconds (Linux: the first field of
 * /proc/thread-self/schedstat, nanoseconds on a CPU); null where the kernel does not say.
 * `process.cpuUsage()` sums every thread of the process, and Node 20 has no per-thread call.
 */
export const threadCpuUs = (): number | null => {
  try {
    const ns = Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ', 1)[0]);
    return Number.isFinite(ns) ? ns / 1000 : null;
  } catch {
    return null;
  }
};

/** CPU time of every thread of this process so far, in µs, by thread (task) id; empty if unknown. */
export const processThreadsCpuUs = (): Map<number, number> => {
  const out = new Map<number, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ', 1)[0]);
      if (Number.isFinite(ns)) out.set(Number(tid), ns / 1000);
    }
  } catch {
    // Not Linux, or a thread ended while it was read: what was read is the answer.
  }
  return out;
};
