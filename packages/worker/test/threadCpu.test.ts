import { describe, expect, it } from 'vitest';
import { threadCpuUs } from '../src/threadCpu.js';

describe('threadCpuUs', () => {
  it.runIf(process.platform === 'linux')(
    "counts this thread's CPU time: it grows as the thread computes, never past the process's",
    () => {
      const thread0 = threadCpuUs();
      const process0 = process.cpuUsage();
      expect(thread0).toBeGreaterThan(0);
      // Burn 50 ms of CPU (by the process's count, not the clock).
      let x = 0;
      while (process.cpuUsage(process0).user < 50_000) x += Math.sqrt(x + 1);
      const grew = threadCpuUs()! - thread0!;
      const processGrew = process.cpuUsage(process0);
      expect(x).toBeGreaterThan(0);
      expect(grew).toBeGreaterThan(10_000);
      expect(grew).toBeLessThanOrEqual(processGrew.user + processGrew.system + 1_000);
    },
  );
});
