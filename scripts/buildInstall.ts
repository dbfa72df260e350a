import { mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/*
 * How a new build replaces a package's dist/ while a server may be running from it (its worker
 * thread imports dist/ again at each restart): file by file, each with one rename(2), which
 * replaces the old file atomically. Every file a build had stays readable throughout; a new
 * build's files appear as they are renamed in. Swapping the whole directory would leave a
 * moment with no dist/ at all (rename cannot replace a directory that has files), and
 * deleting it first leaves none for as long as the build takes.
 */

/** The files under `dir`, as paths relative to it; none if it does not exist. */
const filesUnder = (dir: string): string[] => {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
};

/** Removes the empty directories under `dir` (not `dir` itself), deepest first. */
const removeEmptyDirs = (dir: string): void => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const sub = join(dir, entry.name);
    removeEmptyDirs(sub);
    if (readdirSync(sub).length === 0) rmdirSync(sub);
  }
};

/**
 * Moves every file of `staged` (a complete build) into `dist`, replacing the old ones, then
 * deletes the files of the old build that the new one no longer has (but those in `keep`),
 * and `staged`. Both must be on one file system.
 */
export const installBuild = (staged: string, dist: string, keep: readonly string[] = []): void => {
  const files = filesUnder(staged);
  for (const file of files) {
    mkdirSync(dirname(join(dist, file)), { recursive: true });
    renameSync(join(staged, file), join(dist, file));
  }
  const built = new Set([...files, ...keep]);
  for (const file of filesUnder(dist)) {
    if (!built.has(file)) rmSync(join(dist, file));
  }
  removeEmptyDirs(dist);
  rmSync(staged, { recursive: true, force: true });
};
