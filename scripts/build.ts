import { rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/*
 * `pnpm build`: every package's src/**\/*.ts to dist/**\/*.js, file for file (no bundling:
 * relative imports already name the .js files, and dependencies stay in node_modules). Types
 * are checked by `pnpm typecheck`, not here. The packages' exports maps send the
 * `pollmasters-dist` condition to dist/, so `node --conditions=pollmasters-dist` runs the
 * server from JavaScript, without a TypeScript loader in either of its threads (README,
 * "Layout"; docs/performance.md on memory). bin/pollmasters runs it when a source is newer
 * than the stamp a complete build leaves.
 */

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

/**
 * What bin/pollmasters compares the sources with: written once every package is built, dated
 * when the build started (a source saved meanwhile is newer, and builds again).
 */
const stamp = join(root, 'packages/api/dist/.built');

/** Builds every package afresh; returns how long it took (ms). */
export async function buildPackages(): Promise<number> {
  const started = performance.now();
  const startedAt = new Date();
  await Promise.all(
    PACKAGES.map((name) => {
      const dir = join(root, 'packages', name);
      rmSync(join(dir, 'dist'), { recursive: true, force: true });
      return transpile([join(dir, 'src/**/*.ts')], join(dir, 'src'), join(dir, 'dist'));
    }),
  );
  writeFileSync(stamp, '');
  utimesSync(stamp, startedAt, startedAt);
  return performance.now() - started;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const ms = await buildPackages();
  process.stderr.write(`built packages/*/dist in ${Math.round(ms)} ms\n`);
}
