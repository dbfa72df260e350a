import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildPackages } from '../scripts/build.js';
import { root } from './helpers/childServer.js';

// Issue 16 review: the launcher built by deleting dist/ and building it again in place, with
// no lock. A second launcher (an overlapping restart, `pollmasters --help`, parallel test runs
// after an edit) deleted dist/ under a running server, whose next worker restart failed, and a
// failed build left no dist/ at all. Each test builds a copy of the sources, not this checkout.

const PACKAGES = ['shared', 'worker', 'api', 'client'];
let copy: string;

beforeEach(() => {
  copy = mkdtempSync(join(tmpdir(), 'pollmasters-build-'));
  cpSync(join(root, 'tsconfig.json'), join(copy, 'tsconfig.json'));
  for (const name of PACKAGES) {
    cpSync(join(root, 'packages', name, 'src'), join(copy, 'packages', name, 'src'), {
      recursive: true,
    });
  }
});
afterEach(() => rmSync(copy, { recursive: true, force: true }));

/** Every file under `dir`, relative to `copy`. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(copy, join(entry.parentPath, entry.name)))
    .sort();

/** What a complete build has: a .js and its map for each source, and the stamp. */
const completeBuild = (): string[] =>
  [
    ...PACKAGES.flatMap((name) =>
      filesUnder(join(copy, 'packages', name, 'src')).flatMap((file) => {
        const js = file.replace(`${name}/src/`, `${name}/dist/`).replace(/\.ts$/, '.js');
        return [js, `${js}.map`];
      }),
    ),
    'packages/api/dist/.built',
  ].sort();

const builtFiles = (): string[] =>
  PACKAGES.flatMap((name) => filesUnder(join(copy, 'packages', name, 'dist'))).sort();

/** Nothing a build leaves behind: its lock, its staging directories. */
const leftovers = (): string[] =>
  [
    join(copy, '.build.lock'),
    ...PACKAGES.map((name) => join(copy, 'packages', name, '.dist-next')),
  ].filter((path) => existsSync(path));

/**
 * Looks at every one of `files` again and again on another thread until `stop()`: how many
 * times it found one missing, and how many rounds it made.
 */
const watchFiles = (files: string[]) => {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { existsSync } = require('node:fs');
     const { workerData, parentPort } = require('node:worker_threads');
     const flag = new Int32Array(workerData.flag);
     let missing = [], rounds = 0;
     while (Atomics.load(flag, 0) === 0) {
       for (const file of workerData.files) if (!existsSync(file)) missing.push(file);
       rounds++;
     }
     parentPort.postMessage({ missing: [...new Set(missing)], rounds });`,
    { eval: true, workerData: { files, flag: flag.buffer } },
  );
  const result = new Promise<{ missing: string[]; rounds: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    stop: () => {
      Atomics.store(flag, 0, 1);
      return result;
    },
  };
};

describe('building packages/*/dist (issue #16 review)', () => {
  it('two builds at once leave one complete build, and nothing else', async () => {
    await Promise.all([buildPackages(copy), buildPackages(copy)]);
    expect(builtFiles()).toEqual(completeBuild());
    expect(leftovers()).toEqual([]);
  });

  it('keeps every file of a running server’s build readable while it builds again', async () => {
    await buildPackages(copy);
    const files = builtFiles().map((file) => join(copy, file));
    const watch = watchFiles(files);
    await buildPackages(copy);
    await buildPackages(copy);
    const { missing, rounds } = await watch.stop();
    expect(missing).toEqual([]);
    expect(rounds).toBeGreaterThan(2);
    expect(builtFiles()).toEqual(completeBuild());
  });

  it('keeps the old build when a build fails, and removes what a source no longer has', async () => {
    await buildPackages(copy);
    const before = builtFiles();
    const main = join(copy, 'packages/api/dist/main.js');
    const mainBefore = readFileSync(main, 'utf8');
    const broken = join(copy, 'packages/shared/src/limits.ts');
    const source = readFileSync(broken, 'utf8');
    writeFileSync(broken, `${source}\nexport const = ;\n`);
    await expect(buildPackages(copy)).rejects.toThrow();
    expect(builtFiles()).toEqual(before);
    expect(readFileSync(main, 'utf8')).toBe(mainBefore);
    expect(leftovers()).toEqual([]);

    writeFileSync(broken, source);
    rmSync(join(copy, 'packages/api/src/export'), { recursive: true });
    await buildPackages(copy);
    expect(builtFiles()).toEqual(completeBuild());
    expect(existsSync(join(copy, 'packages/api/dist/export'))).toBe(false);
  });

  it('compiles the vote cipher again when its source changed since install, and only then', async () => {
    const native = join(copy, 'packages/worker/native');
    mkdirSync(native, { recursive: true });
    for (const file of ['voteCipher.cc', 'build.mjs']) {
      cpSync(join(root, 'packages/worker/native', file), join(native, file));
    }
    const addon = join(native, 'build/vote_cipher.node');
    // Not built at install (no compiler): the build leaves it so.
    await buildPackages(copy, () => {});
    expect(existsSync(addon)).toBe(false);
    expect(spawnSync(process.execPath, [join(native, 'build.mjs'), '--strict']).status).toBe(0);
    const built = statSync(addon).mtimeMs;
    await buildPackages(copy, () => {});
    expect(statSync(addon).mtimeMs).toBe(built);
    // An edit to the source: the next build compiles it again.
    const later = new Date(built + 2_000);
    utimesSync(join(native, 'voteCipher.cc'), later, later);
    const lines: string[] = [];
    await buildPackages(copy, (line) => lines.push(line));
    expect(statSync(addon).mtimeMs).toBeGreaterThan(built);
    expect(lines).toContain(
      'vote cipher: its source changed since it was built; building it again',
    );
  });

  it('takes over the lock of a build that died', async () => {
    const dead = spawnSync('true').pid;
    mkdirSync(join(copy, '.build.lock'));
    writeFileSync(join(copy, '.build.lock/pid'), String(dead));
    await buildPackages(copy);
    expect(builtFiles()).toEqual(completeBuild());
    expect(leftovers()).toEqual([]);
  });
});
