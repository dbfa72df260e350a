import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/*
 * `pnpm build`: every package's src/**\/*.ts to dist/**\/*.js, file for file (no bundling:
 * relative imports already name the .js files, and dependencies stay in node_modules). Types
 * are checked by `pnpm typecheck`, not here. The packages' exports maps send the
 * `pollmasters-dist` condition to dist/, so `node --conditions=pollmasters-dist` runs the
 * server from JavaScript, without a TypeScript loader in either of its threads (README,
 * "Run and test"; docs/performance.md on memory).
 */

/** The Node.js flag that makes `@pollmasters/*` imports resolve to the build. */
export const DIST_CONDITION = '--conditions=pollmasters-dist';

/**
 * V8 heap flags the server runs with (`pnpm start`; process-wide, so the worker thread's heap
 * too). A 1 GiB old-space limit per thread (some 3 million stored votes) makes V8 grow each
 * heap by about 1.5x its live size between full collections instead of 4x, and 4 MiB
 * semi-spaces make each thread's young generation a quarter of V8's default: memory first,
 * as V8 itself does on a small machine. What they cost and save is in the README ("Layout")
 * and, measured, in docs/performance.md (sessions 3 and 4).
 */
export const HEAP_FLAGS = ['--max-semi-space-size=4', '--max-old-space-size=1024'];

/**
 * The environment the server runs with (`pnpm start`): glibc's malloc keeps one arena per
 * thread by default (up to 8 per core), each holding on to what its thread freed; two arenas
 * for the whole process gave 254-262 MB peak RSS in `pnpm bench` instead of 274-291 MB, at the
 * same throughput (docs/performance.md, session 3). Other C libraries ignore it.
 */
export const SERVER_ENV = { MALLOC_ARENA_MAX: '2' };

const root = join(import.meta.dirname, '..');
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

/** Builds every package afresh; returns how long it took (ms). */
export async function buildPackages(): Promise<number> {
  const started = performance.now();
  await Promise.all(
    PACKAGES.map((name) => {
      const dir = join(root, 'packages', name);
      rmSync(join(dir, 'dist'), { recursive: true, force: true });
      return transpile([join(dir, 'src/**/*.ts')], join(dir, 'src'), join(dir, 'dist'));
    }),
  );
  return performance.now() - started;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const ms = await buildPackages();
  process.stderr.write(`built packages/*/dist in ${Math.round(ms)} ms\n`);
}
