import { join } from 'node:path';
import { optionHash } from '@pollmasters/shared/node';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { migrations } from '../src/store/database.js';
import { ALICE, BOB, GROUP, OPTIONS, tempDirs, storedVote as vote } from './fixtures.js';
import { insertOldPoll } from './shippedSchema.js';
import { openSqlite } from './sqliteLog.js';

/*
 * SQLite from version 6 on keeps a poll's counters (unknown option votes, version) in
 * `poll_counters`, which every committed batch updates, instead of in the wide `polls` row.
 */

const tempDir = tempDirs('pollmasters-pollcounters-');
const options = OPTIONS.map((name) => ({ name, hash: optionHash(name) }));

/** A database at version 5 with poll P (its counters in `polls`) and Alice's vote in a batch. */
const version5 = (dir: string): void => {
  const db = new Database(join(dir, 'test.sqlite'));
  for (const migration of migrations.slice(0, 5)) db.exec(migration);
  db.pragma('user_version = 5');
  insertOldPoll(db, GROUP, options, { unknownOptionVotes: 2, version: 7 });
  const batch = { s: [[optionHash('Pizza')]], v: [['P', ALICE.pn, 'Alice', 0, 1000, 'M1']] };
  db.prepare('INSERT INTO vote_batches (votes) VALUES (?)').run(JSON.stringify(batch));
  db.close();
};

const countersOf = (db: Database.Database) =>
  db.prepare('SELECT poll_id, unknown_option_votes, version FROM poll_counters').all();

it('migrates version 5: the counters move to poll_counters, the votes stay, and both go on', () => {
  const dir = tempDir();
  version5(dir);
  const { db, polls } = openSqlite(dir);
  expect(countersOf(db)).toEqual([{ poll_id: 'P', unknown_option_votes: 2, version: 7 }]);
  const columns = db.prepare("SELECT name FROM pragma_table_info('polls')").pluck().all();
  expect(columns).not.toContain('version');
  const loaded = polls.get('P')!;
  expect([loaded.unknownOptionVotes, loaded.version, loaded.voters.size]).toEqual([2, 7, 1]);

  // A vote with an unknown option hash: both counters move, in poll_counters only.
  polls.applyVote('P', vote(BOB.pn, 'Pasta', 2000), 1);
  expect(polls.flush()).toHaveLength(1);
  expect(countersOf(db)).toEqual([{ poll_id: 'P', unknown_option_votes: 3, version: 8 }]);
  db.close();

  const again = openSqlite(dir);
  const reloaded = again.polls.get('P')!;
  expect([reloaded.unknownOptionVotes, reloaded.version]).toEqual([3, 8]);
  expect(again.polls.toPoll(reloaded).voters.map((v) => v.voter)).toEqual([ALICE.pn, BOB.pn]);
  again.db.close();
});

it('stores a new poll with its counters at zero, and a failed insert leaves neither row', () => {
  const dir = tempDir();
  const { db, polls } = openSqlite(dir);
  const poll = {
    id: 'Q',
    chatId: GROUP,
    creator: { jid: ALICE.pn, fromMe: false },
    question: 'Dinner?',
    options,
    selectableCount: 1,
    createdAt: 1_700_000_000_000,
    secret: new Uint8Array(32),
    creatorJids: [ALICE.pn],
    message: new Uint8Array([1]),
  };
  db.exec(
    `CREATE TRIGGER refuse BEFORE INSERT ON poll_counters BEGIN SELECT raise(ABORT, 'full'); END`,
  );
  expect(() => polls.add(poll)).toThrow(/full/);
  expect(polls.get('Q')).toBeUndefined();
  expect(db.prepare('SELECT count(*) FROM polls').pluck().get()).toBe(0);
  db.exec('DROP TRIGGER refuse');
  expect(polls.add(poll)).toBe(true);
  expect(countersOf(db)).toEqual([{ poll_id: 'Q', unknown_option_votes: 0, version: 0 }]);
  db.close();
});
