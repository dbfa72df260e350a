import { existsSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { installBuild } from './buildInstall.js';

/*
 * The web dashboard's part of `pnpm build` (./build.ts, under its lock): packages/web built by
 * Vite into packages/web/.dist-next, then moved into dist/ file by file like the other
 * packages (a server serving dist/ meanwhile keeps every file it may send). Skipped when no
 * input is newer than the last web build (the tests build on every run: a Vite build costs
 * seconds, the server's esbuild a fraction of one).
 */

const STAMP = '.built';

/** The newest modification time of the files under `path`, node_modules and builds aside. */
const newestUnder = (path: string): number => {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  // Files only: a build's own staging directory changes the folder's time.
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.')) continue;
    newest = Math.max(newest, newestUnder(join(path, entry)));
  }
  return newest;
};

/** What the dashboard is built from: its own files and the contract it bundles. */
const inputsOf = (root: string): string[] => [
  join(root, 'packages/web'),
  join(root, 'packages/shared/src'),
  join(root, 'scripts/buildWebApp.ts'),
];

export async function buildWebApp(root: string, log: (line: string) => void): Promise<void> {
  const web = join(root, 'packages/web');
  const dist = join(web, 'dist');
  const stamp = join(dist, STAMP);
  const builtAt = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  if (builtAt > 0 && Math.max(...inputsOf(root).map(newestUnder)) < builtAt) return;
  const startedAt = new Date();
  const staged = join(web, '.dist-next');
  rmSync(staged, { recursive: true, force: true });
  try {
    // From packages/web, where Vite is installed.
    const { buildWeb, describeWebBuild } = (await import(
      pathToFileURL(join(web, 'buildWeb.ts')).href
    )) as typeof import('../packages/web/buildWeb.js');
    const report = await buildWeb(staged);
    installBuild(staged, dist, [STAMP]);
    writeFileSync(stamp, '');
    utimesSync(stamp, startedAt, startedAt);
    log(describeWebBuild(report));
  } finally {
    rmSync(staged, { recursive: true, force: true });
  }
}
