import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * bin/pollmasters, the launcher behind `pnpm start`, is the one place that says how the server
 * runs: its environment and node flags. The bench runs its own entry with the same settings,
 * read here from the launcher's lines; test/start-command.test.ts checks that a server the
 * launcher started runs with exactly these.
 */

/** The launcher's path: `pnpm start`, the package's `bin`, what process managers run. */
export const LAUNCHER = join(import.meta.dirname, '..', 'bin', 'pollmasters');

const text = readFileSync(LAUNCHER, 'utf8');

const line = (pattern: RegExp): string => {
  const value = pattern.exec(text)?.[1];
  if (value === undefined) throw new Error(`bin/pollmasters has no line matching ${pattern}`);
  return value;
};

/** The Node.js flag that makes `@pollmasters/*` imports resolve to the build. */
export const DIST_CONDITION = line(/^exec node (--conditions=\S+) /m);

/** The V8 heap flags the server runs with (unless POLLMASTERS_NODE_FLAGS replaces them). */
export const HEAP_FLAGS = line(/^heap_flags=\$\{POLLMASTERS_NODE_FLAGS-'([^']*)'\}$/m)
  .split(' ')
  .filter(Boolean);

/** The environment the server runs with (a value already set wins). */
export const SERVER_ENV = {
  MALLOC_ARENA_MAX: line(/^export MALLOC_ARENA_MAX="\$\{MALLOC_ARENA_MAX:-(\w+)\}"$/m),
};
