import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * The lock of scripts/build.ts: a directory, since mkdir is atomic, holding the owner's PID.
 * Launchers started together (a restart overlapping the old server's, `pollmasters --help`
 * next to a running one, parallel test runs after an edit) build one after another.
 */

/** A lock older than this is stale whatever its PID says (the PID may have been reused). */
const staleAfterMs = 10 * 60_000;
/** How long a builder waits for another's build before it gives up. */
const waitAtMostMs = 5 * 60_000;
const pollMs = 100;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, as another user's process.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The owner's PID, or null while it is still to write it (or if it is unreadable). */
const ownerOf = (lock: string): number | null => {
  try {
    const pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
};

/**
 * Whether the lock at `lock` was left by a builder that is gone: its owner died, or it is
 * older than any build takes (an owner that never wrote its PID included).
 */
const isStale = (lock: string): boolean => {
  let ageMs: number;
  try {
    ageMs = Date.now() - statSync(lock).mtimeMs;
  } catch {
    return false;
  }
  if (ageMs > staleAfterMs) return true;
  const owner = ownerOf(lock);
  return owner !== null && !alive(owner);
};

/**
 * Takes the lock at `lock` (a directory path), waiting while a live builder holds it and
 * clearing one that a dead builder left. Resolves with the function that releases it.
 * @throws when another builder holds it for longer than any build takes
 */
export const acquireBuildLock = async (lock: string): Promise<() => void> => {
  const giveUpAt = Date.now() + waitAtMostMs;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return () => rmSync(lock, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (isStale(lock)) {
      // Renamed away first: of two builders that found it stale, one moves it, the other
      // finds nothing to move and tries again.
      const aside = `${lock}.stale-${process.pid}`;
      try {
        renameSync(lock, aside);
        rmSync(aside, { recursive: true, force: true });
      } catch {}
      continue;
    }
    if (Date.now() > giveUpAt) {
      throw new Error(
        `another build (pid ${ownerOf(lock) ?? '?'}) holds ${lock}; remove it if no build is running`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
};
