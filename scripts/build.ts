import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { installBuild } from './buildInstall.js';
import { acquireBuildLock } from './buildLock.js';
import { buildWebApp } from './buildWebApp.js';

/*
 * `pnpm build`: every package's src/**\/*.ts to dist/**\/*.js, file for file (no bundling:
 * relative imports already name the .js files, and dependencies stay in node_modules). Types
 * are checked by `pnpm typecheck`, not here. The packages' exports maps send the
 * `pollmasters-dist` condition to dist/, so `node --conditions=pollmasters-dist` runs the
 * server from JavaScript, without a TypeScript loader in either of its threads (README,
 * "Layout"; docs/performance.md on memory). bin/pollmasters runs it when a source is newer
 * than the stamp a complete build leaves.
 *
 * A server may be running from dist/ while another launcher builds: builds take a lock
 * (./buildLock.ts), build into packages/<name>/.dist-next, and move a complete build into
 * dist/ file by file (./buildInstall.ts). A failed build leaves dist/ as it was.
 *
 * Then the web dashboard (packages/web, by Vite: ./buildWebApp.ts), when its sources changed
 * since its last build; the build prints the size of its first load.
 */

const repoRoot = join(import.meta.dirname, '..');
const PACKAGES = ['shared', 'worker', 'api', 'client'];

/** Transpiles TypeScript files to ESM for Node 20, with source maps. */
export const transpile = (entryPoints: string[], outbase: string, outdir: string) =>
  build({
    entryPoints,
    outbase,
    outdir,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
  });

/**
 * What bin/pollmasters compares the sources with: written once every package is built, dated
 * when the build started (a source saved meanwhile is newer, and builds again).
 */
const STAMP = '.built';

/**
 * Builds every package of the checkout at `root` afresh; returns how long it took (ms), the
 * wait for another build included.
 */
export async function buildPackages(
  root = repoRoot,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<number> {
  const started = performance.now();
  const release = await acquireBuildLock(join(root, '.build.lock'));
  try {
    const startedAt = new Date();
    const dirs = PACKAGES.map((name) => {
      const dir = join(root, 'packages', name);
      return { src: join(dir, 'src'), staged: join(dir, '.dist-next'), dist: join(dir, 'dist') };
    });
    // Settled, all of them: a failure of one must not clear the others' staging mid-write.
    const built = await Promise.allSettled(
      dirs.map(({ src, staged }) => {
        // Left by a build that died (this one holds the lock).
        rmSync(staged, { recursive: true, force: true });
        return transpile([join(src, '**/*.ts')], src, staged);
      }),
    );
    const failed = built.find((result) => result.status === 'rejected');
    if (failed) {
      for (const { staged } of dirs) rmSync(staged, { recursive: true, force: true });
      throw failed.reason;
    }
    for (const { staged, dist } of dirs) installBuild(staged, dist, [STAMP]);
    // A checkout copied without the dashboard (the build's own tests) builds the server alone.
    if (existsSync(join(root, 'packages/web/package.json'))) await buildWebApp(root, log);
    rebuildStaleCipher(root, log);
    const stamp = join(root, 'packages/api/dist', STAMP);
    writeFileSync(stamp, '');
    utimesSync(stamp, startedAt, startedAt);
  } finally {
    release();
  }
  return performance.now() - started;
}

/**
 * The worker's vote cipher (packages/worker/native), compiled again when its source changed
 * after `pnpm install` compiled it: the server would otherwise load the old one. Where the
 * install could not build it, nothing is tried here (the worker uses node:crypto).
 */
const rebuildStaleCipher = (root: string, log: (line: string) => void) => {
  const native = join(root, 'packages/worker/native');
  const addon = join(native, 'build/vote_cipher.node');
  const source = join(native, 'voteCipher.cc');
  if (!existsSync(addon) || !existsSync(source)) return;
  if (statSync(source).mtimeMs <= statSync(addon).mtimeMs) return;
  log('vote cipher: its source changed since it was built; building it again');
  execFileSync(process.execPath, [join(native, 'build.mjs'), '--strict'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const ms = await buildPackages();
  process.stderr.write(`built packages/*/dist in ${Math.round(ms)} ms\n`);
}
