import { readFileSync } from 'node:fs';

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
