import type { Db } from './database.js';
import { BatchBuilder, CompactedBatches, parseBatch } from './voteBatch.js';
import type { StoredVote } from './voteDecision.js';

/** A row to append: `vote` null forgets the voter (their other JID took the vote over). */
export interface VoteLogEntry {
  pollId: string;
  voter: string;
  vote: StoredVote | null;
  messageId?: string | undefined;
}

/** A row as replayed: `selected` (option hashes) null forgets the voter. */
export interface LoggedVote {
  pollId: string;
  voter: string;
  name: string | null;
  selected: readonly string[] | null;
  timestampMs: number;
}

/**
 * A row as `replay` reads it: seq, poll id, voter, name, selected (JSON array of option hashes;
 * null: the voter is forgotten, taken over by an alias), timestamp.
 */
type RawRow = [number, string, string, string | null, string | null, number];

/** Rows (and batches) read at once during a replay. */
export const REPLAY_CHUNK = 5_000;
const BATCH_CHUNK = 20;

/**
 * The vote log (./database.ts, migrations 2 and 5): every vote appended in the order it
 * happened, a committed batch as one `vote_batches` row (one B-tree insert for the batch, not
 * one per vote), after the per-vote rows of `vote_log` (written before version 5). The last
 * entry of a (poll, voter) is their vote; the log is replayed at start and compacted (into
 * batches) once more than half of it is obsolete.
 */
export class VoteLog {
  private readonly appendBatch;

  constructor(private readonly db: Db) {
    this.appendBatch = db.prepare<[string]>('INSERT INTO vote_batches (votes) VALUES (?)');
  }

  /**
   * Hands every entry to `apply`, in order: the rows of `vote_log`, then the batches (one row
   * object, reused: `apply` copies what it keeps); then, if changed and forgotten votes left
   * more than half of the log obsolete (`liveVotes`: the votes the entries came to), compacts it.
   */
  replay(apply: (row: LoggedVote) => void, liveVotes: () => number): void {
    const row: LoggedVote = { pollId: '', voter: '', name: null, selected: null, timestampMs: 0 };
    let entries = 0;
    const entry = (
      pollId: string,
      voter: string,
      name: string | null,
      selected: readonly string[] | null,
      timestampMs: number,
    ) => {
      row.pollId = pollId;
      row.voter = voter;
      row.name = name;
      row.selected = selected;
      row.timestampMs = timestampMs;
      apply(row);
      entries++;
    };
    // A log holds few distinct selections (a poll's votes pick among a few options): each
    // text is parsed once, not once per row. The array is only read by `apply`.
    const parsed = new Map<string, readonly string[]>();
    const selectionOf = (json: string): readonly string[] => {
      let selected = parsed.get(json);
      if (selected === undefined) {
        if (parsed.size >= 10_000) parsed.clear();
        selected = JSON.parse(json) as string[];
        parsed.set(json, selected);
      }
      return selected;
    };
    // Not message_id: it stays in the log, for whoever reads the file; decisions need none.
    this.inChunks<RawRow>(
      'SELECT seq, poll_id, voter, name, selected, timestamp_ms FROM vote_log',
      REPLAY_CHUNK,
      ([, pollId, voter, name, selected, timestampMs]) =>
        entry(pollId, voter, name, selected === null ? null : selectionOf(selected), timestampMs),
    );
    this.inChunks<[number, string]>(
      'SELECT seq, votes FROM vote_batches',
      BATCH_CHUNK,
      ([, json]) => {
        const { s, v } = parseBatch(json);
        for (const [pollId, voter, name, selection, timestampMs] of v) {
          entry(pollId, voter, name, selection < 0 ? null : s[selection]!, timestampMs);
        }
      },
    );
    if (entries > 2 * liveVotes() + COMPACT_SLACK) this.compact();
  }

  /**
   * Hands each row of `select` (a table with `seq` first) to `each` in `seq` order (`newest
   * first`: from the last), in chunks of rows as arrays (`raw`): about twice as fast as one
   * object per row from `iterate` (measured: docs/performance.md, "How the cost grows"), and
   * never the whole log at once.
   */
  private inChunks<R extends [number, ...unknown[]]>(
    select: string,
    size: number,
    each: (row: R) => void,
    newestFirst = false,
  ): void {
    const order = newestFirst ? 'seq < ? ORDER BY seq DESC' : 'seq > ? ORDER BY seq';
    const chunk = this.db.prepare<[number], R>(`${select} WHERE ${order} LIMIT ${size}`).raw();
    for (let after = newestFirst ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER; ; ) {
      const got = chunk.all(after);
      for (const r of got) each(r);
      if (got.length < size) break;
      after = got[got.length - 1]![0];
    }
  }

  /**
   * Appends the entries in their order, which is the order the log is replayed in, as one
   * batch row. Inside the caller's transaction, which also stores what the votes changed of
   * their polls.
   */
  append(entries: readonly VoteLogEntry[]): void {
    if (entries.length === 0) return;
    // A poll's voters share one array per selection (`Selections`): a batch names each once.
    const batch = new BatchBuilder<readonly string[]>();
    for (let k = 0; k < entries.length; k++) {
      const { pollId, voter, vote, messageId } = entries[k]!;
      if (!vote) batch.add(pollId, voter, null, null, 0, null);
      else {
        const { name, selected, timestampMs } = vote;
        batch.add(pollId, voter, name ?? null, selected, timestampMs, messageId ?? null);
      }
    }
    this.appendBatch.run(batch.json(JSON.stringify(batch.selections)));
  }

  /**
   * Keeps only each voter's last entry, and none of a forgotten voter, as new batches; the
   * rows and batches before them are deleted. The log is read from its end, so the first entry
   * of a (poll, voter) met is their last: one pass, parsed as the replay parses it (SQL over
   * `vote_entries` took 5 times as long: docs/performance.md, "Session 8").
   */
  private compact(): void {
    this.db.transaction(() => {
      // Each poll's voters met so far: a Set per poll holds the voter ids only (no key made
      // of poll and voter per entry), half the memory at a million voters.
      const seen = new Map<string, Set<string>>();
      const out = new CompactedBatches(this.appendBatch);
      const keep = (
        pollId: string,
        voter: string,
        name: string | null,
        selection: string | null,
        timestampMs: number,
        messageId: string | null,
      ) => {
        let voters = seen.get(pollId);
        if (voters === undefined) {
          voters = new Set();
          seen.set(pollId, voters);
        }
        if (voters.has(voter)) return;
        voters.add(voter);
        if (selection !== null) out.add(pollId, voter, name, selection, timestampMs, messageId);
      };
      const lastBatch = this.db.prepare('SELECT max(seq) AS seq FROM vote_batches').get() as {
        seq: number | null;
      };
      this.inChunks<[number, string]>(
        'SELECT seq, votes FROM vote_batches',
        BATCH_CHUNK,
        ([, json]) => {
          const { s, v } = parseBatch(json);
          const selections = s.map((selected) => JSON.stringify(selected));
          for (let k = v.length - 1; k >= 0; k--) {
            const [pollId, voter, name, selection, timestampMs, messageId] = v[k]!;
            const selected = selection < 0 ? null : selections[selection]!;
            keep(pollId, voter, name, selected, timestampMs, messageId);
          }
        },
        true,
      );
      this.inChunks<[...RawRow, string | null]>(
        'SELECT seq, poll_id, voter, name, selected, timestamp_ms, message_id FROM vote_log',
        REPLAY_CHUNK,
        ([, pollId, voter, name, selected, timestampMs, messageId]) =>
          keep(pollId, voter, name, selected, timestampMs, messageId),
        true,
      );
      out.end();
      this.db.prepare('DELETE FROM vote_batches WHERE seq <= ?').run(lastBatch.seq ?? 0);
      this.db.exec('DELETE FROM vote_log');
    })();
  }
}

/** Rows of the vote log beyond twice the live votes that are tolerated before compacting. */
export const COMPACT_SLACK = 1_000;
