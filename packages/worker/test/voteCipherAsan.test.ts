import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The vote cipher is C++ reading payloads that anyone in a chat can send: a build of it with
 * AddressSanitizer is fuzzed (./voteCipherFuzz.mjs) under LD_PRELOAD of the compiler's libasan,
 * so that any read or write outside its arrays aborts the run. Where the compiler has no
 * libasan (not gcc, not Linux) there is nothing to run it with.
 */
const libasan = (() => {
  try {
    const path = execFileSync(process.env.CXX || 'c++', ['-print-file-name=libasan.so'], {
      encoding: 'utf8',
    }).trim();
    return path.startsWith('/') && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
})();
const dir = mkdtempSync(join(tmpdir(), 'pollmasters-asan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the vote cipher under AddressSanitizer', () => {
  it.skipIf(!libasan)(
    'opens 20,000 fuzzed batches with no bad access and right answers',
    () => {
      const addon = join(dir, 'vote_cipher_asan.node');
      const native = join(import.meta.dirname, '../native/build.mjs');
      expect(spawnSync(process.execPath, [native, '--asan', addon]).status).toBe(0);
      const run = spawnSync(
        process.execPath,
        [join(import.meta.dirname, 'voteCipherFuzz.mjs'), addon, '20000'],
        {
          encoding: 'utf8',
          // Node itself leaks at exit by LeakSanitizer's measure: only bad accesses count here.
          env: { ...process.env, LD_PRELOAD: libasan, ASAN_OPTIONS: 'detect_leaks=0' },
        },
      );
      expect(run.stderr).not.toContain('AddressSanitizer');
      expect(run.status).toBe(0);
      const counts = JSON.parse(run.stdout) as {
        opened: number;
        refused: number;
        authentic: number;
      };
      expect(counts.opened).toBeGreaterThan(7_000);
      expect(counts.refused).toBeGreaterThan(5_000);
      expect(counts.authentic).toBeGreaterThan(40_000);
    },
    120_000,
  );
});
