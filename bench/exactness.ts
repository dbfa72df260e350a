import { join } from 'node:path';
import { dataLayout } from '@pollmasters/worker';
import Database from 'better-sqlite3';
import { OPTIONS, type Tally } from './protocol.js';

/* The bench's exactness checks: what a reader saw against what the sandbox cast. */

/** Poll id -> what the sandbox says its counts must be. */
export type Expected = Map<string, Tally>;

/** Compares what a reader saw with what the sandbox cast; records every difference. */
export const compare = (
  failures: string[],
  where: string,
  expected: Expected,
  seen: (pollId: string) => Tally | undefined,
) => {
  let wrong = 0;
  for (const [pollId, want] of expected) {
    const got = seen(pollId);
    // Every option's count, and nothing counted under any other name (a raw hash, say).
    const same =
      got?.voters === want.voters &&
      OPTIONS.every((o) => (got.counts[o] ?? 0) === (want.counts[o] ?? 0)) &&
      Object.keys(got.counts).every((name) => OPTIONS.includes(name));
    if (!same) {
      wrong += 1;
      if (wrong <= 3) {
        failures.push(
          `${where}: poll ${pollId}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`,
        );
      }
    }
  }
  if (wrong > 3) failures.push(`${where}: ${wrong} polls wrong in all`);
  return wrong === 0;
};

/** Counts per poll as the worker stored them in its SQLite file. */
export const countsInDatabase = (dataDir: string) => {
  const sessionDir = dataLayout.sessionDir(dataDir, 'default');
  const db = new Database(join(sessionDir, `${dataLayout.databaseName}.sqlite`), {
    readonly: true,
  });
  try {
    const hashes = new Map<string, string>();
    for (const p of db
      .prepare<[], { id: string; options: string }>('SELECT id, options FROM polls')
      .all()) {
      for (const o of JSON.parse(p.options) as { name: string; hash: string }[]) {
        hashes.set(`${p.id}/${o.hash}`, o.name);
      }
    }
    const out = new Map<string, Tally>();
    const rowsOf = db.prepare<[], { poll_id: string; selected: string }>(
      'SELECT poll_id, selected FROM votes',
    );
    for (const v of rowsOf.iterate()) {
      const selected = JSON.parse(v.selected) as string[];
      if (selected.length === 0) continue;
      const entry = out.get(v.poll_id) ?? { voters: 0, counts: {} };
      entry.voters += 1;
      for (const h of selected) {
        const name = hashes.get(`${v.poll_id}/${h}`) ?? h;
        entry.counts[name] = (entry.counts[name] ?? 0) + 1;
      }
      out.set(v.poll_id, entry);
    }
    return out;
  } finally {
    db.close();
  }
};
