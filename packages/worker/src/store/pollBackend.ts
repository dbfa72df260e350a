import type { Db } from './database.js';
import { type NewPoll, type PollRow, rowParamsOf } from './storedPoll.js';
import { type LoggedVote, VoteLog, type VoteLogEntry } from './voteLog.js';

/** A value now (SQLite) or once the database answers (PostgreSQL). */
export type Awaitable<T> = T | Promise<T>;

/**
 * Where PollStore keeps its polls and votes, one implementation per engine. Writes made while
 * `transaction` runs `build` form one transaction; on SQLite it is committed when `transaction`
 * returns, on PostgreSQL when its promise resolves (writes commit in the order they are made).
 */
export interface PollBackend {
  /** Every stored poll. */
  polls(): Awaitable<PollRow[]>;
  /** The vote log, row by row in order (then compacted if mostly obsolete): see VoteLog. */
  replay(apply: (row: LoggedVote) => void, liveVotes: () => number): Awaitable<void>;
  transaction(build: () => void): Promise<void> | undefined;
  insertPoll(p: NewPoll): void;
  setCreators(pollId: string, creatorJids: readonly string[]): void;
  appendVotes(rows: readonly VoteLogEntry[]): void;
  updatePoll(pollId: string, unknownOptionVotes: number, version: number): void;
}

/** The SQLite backend: synchronous, its statements prepared once. */
export const sqlitePollBackend = (db: Db): PollBackend => {
  const log = new VoteLog(db);
  const insert = db.prepare(
    `INSERT OR IGNORE INTO polls (id, chat_id, question, options, selectable_count, created_at,
       secret, creator_jids, message, creator_jid, creator_from_me)
     VALUES (@id, @chatId, @question, @options, @selectableCount, @createdAt, @secret,
       @creatorJids, @message, @creatorJid, @creatorFromMe)`,
  );
  const insertCounters = db.prepare<[string]>(
    'INSERT OR IGNORE INTO poll_counters (poll_id, unknown_option_votes, version) VALUES (?, 0, 0)',
  );
  const updateCreators = db.prepare<[string, string]>(
    'UPDATE polls SET creator_jids = ? WHERE id = ?',
  );
  const updatePoll = db.prepare<[number, number, string]>(
    'UPDATE poll_counters SET unknown_option_votes = ?, version = ? WHERE poll_id = ?',
  );
  const inTransaction = db.transaction((build: () => void) => build());
  return {
    polls: () =>
      db
        .prepare<[], PollRow>(
          `SELECT p.*, c.unknown_option_votes, c.version
           FROM polls p JOIN poll_counters c ON c.poll_id = p.id`,
        )
        .all(),
    replay: (apply, liveVotes) => log.replay(apply, liveVotes),
    transaction: (build) => {
      inTransaction(build);
      return undefined;
    },
    insertPoll: (p) => {
      insert.run(rowParamsOf(p));
      insertCounters.run(p.id);
    },
    setCreators: (id, jids) => updateCreators.run(JSON.stringify(jids), id),
    appendVotes: (rows) => log.append(rows),
    updatePoll: (id, unknown, version) => updatePoll.run(unknown, version, id),
  };
};
