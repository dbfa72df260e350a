import type { Db } from './database.js';
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

/** Rows read at once during a replay. */
const REPLAY_CHUNK = 5_000;

/**
 * The `vote_log` table (./database.ts, migration 2): every vote appended in the order it
 * happened, so that a commit adds rows instead of rewriting a B-tree's leaves. The last row of
 * a (poll, voter) is their vote; the log is replayed at start and compacted once more than
 * half of it is obsolete.
 */
export class VoteLog {
  private readonly appendRow;

  constructor(private readonly db: Db) {
    this.appendRow = db.prepare<
      [string, string, string | null, string | null, number, string | null]
    >(
      `INSERT INTO vote_log (poll_id, voter, name, selected, timestamp_ms, message_id)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
  }

  /**
   * Hands every row to `apply`, in order (one row object, reused: `apply` copies what it
   * keeps); then, if changed and forgotten votes left more than half of the log obsolete
   * (`liveVotes`: the votes the rows came to), compacts it.
   */
  replay(apply: (row: LoggedVote) => void, liveVotes: () => number): void {
    let rows = 0;
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
    // In chunks of rows as arrays (`raw`): about twice as fast as one object per row from
    // `iterate` (measured: docs/performance.md, "How the cost grows"), and never the whole log.
    // Not message_id: it stays in the log, for whoever reads the file; decisions need none.
    const chunk = this.db
      .prepare<[number], RawRow>(
        `SELECT seq, poll_id, voter, name, selected, timestamp_ms FROM vote_log
         WHERE seq > ? ORDER BY seq LIMIT ${REPLAY_CHUNK}`,
      )
      .raw();
    const row: LoggedVote = { pollId: '', voter: '', name: null, selected: null, timestampMs: 0 };
    for (let after = Number.MIN_SAFE_INTEGER; ; ) {
      const got = chunk.all(after);
      for (const [, pollId, voter, name, selected, timestampMs] of got) {
        row.pollId = pollId;
        row.voter = voter;
        row.name = name;
        row.selected = selected === null ? null : selectionOf(selected);
        row.timestampMs = timestampMs;
        apply(row);
      }
      rows += got.length;
      if (got.length < REPLAY_CHUNK) break;
      after = got[got.length - 1]![0];
    }
    if (rows > 2 * liveVotes() + COMPACT_SLACK) this.compact();
  }

  /**
   * Appends the entries in their order, which is the order the log is replayed in. Inside the
   * caller's transaction, which also stores what the votes changed of their polls.
   */
  append(entries: readonly VoteLogEntry[]): void {
    for (const { pollId, voter, vote, messageId } of entries) {
      if (!vote) this.appendRow.run(pollId, voter, null, null, 0, null);
      else {
        this.appendRow.run(
          pollId,
          voter,
          vote.name ?? null,
          selectionJson(vote.selected),
          vote.timestampMs,
          messageId ?? null,
        );
      }
    }
  }

  /** Keeps only each voter's last row, and no row of a forgotten voter. */
  private compact(): void {
    this.db.transaction(() => {
      this.db.exec(`DELETE FROM vote_log
               WHERE seq NOT IN (SELECT max(seq) FROM vote_log GROUP BY poll_id, voter)`);
      this.db.exec('DELETE FROM vote_log WHERE selected IS NULL');
    })();
  }
}

/**
 * A selection's JSON for the vote log, made once per array: a poll's voters share one array
 * per selection (`Selections`), so most votes need no JSON.stringify of their own.
 */
const selectionJsons = new WeakMap<readonly string[], string>();
export const selectionJson = (selected: readonly string[]): string => {
  let json = selectionJsons.get(selected);
  if (json === undefined) {
    json = JSON.stringify(selected);
    selectionJsons.set(selected, json);
  }
  return json;
};

/** Rows of the vote log beyond twice the live votes that are tolerated before compacting. */
const COMPACT_SLACK = 1_000;
