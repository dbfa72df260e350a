import { join } from 'node:path';
import { optionHash } from '@pollmasters/shared/node';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { migrations } from '../src/store/database.js';
import { ALICE, BOB, GROUP, OPTIONS, tempDirs, storedVote as vote } from './fixtures.js';
import { insertOldPoll } from './shippedSchema.js';
import { openSqlite, votersOfP } from './sqliteLog.js';

/*
 * SQLite's vote log from version 5 on: a committed batch is one `vote_batches` row, after the
 * per-vote `vote_log` rows that older versions wrote (and that compaction writes). The replay
 * reads both in that order; the last entry of a (poll, voter) is their vote.
 */

const tempDir = tempDirs('pollmasters-votebatches-');
const CAROL = '4915100000003@s.whatsapp.net';
const options = OPTIONS.map((name) => ({ name, hash: optionHash(name) }));

/** A database at version 4 (per-vote rows only) with poll P and the given `vote_log` rows. */
const version4 = (dir: string, rows: [string, string | null, number][]): void => {
  const db = new Database(join(dir, 'test.sqlite'));
  for (const migration of migrations.slice(0, 4)) db.exec(migration);
  db.pragma('user_version = 4');
  insertOldPoll(db, GROUP, options, { unknownOptionVotes: 0, version: rows.length });
  const insert = db.prepare(
    `INSERT INTO vote_log (poll_id, voter, name, selected, timestamp_ms, message_id)
     VALUES ('P', ?, NULL, ?, ?, ?)`,
  );
  db.transaction(() => {
    for (const [voter, option, t] of rows) {
      const selected = option === null ? null : JSON.stringify([optionHash(option)]);
      insert.run(voter, selected, option === null ? 0 : t, option === null ? null : `M${t}`);
    }
  })();
  db.close();
};

const count = (db: Database.Database, table: string) =>
  (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

it('replays the per-vote rows of version 4, then the batches after them, in order', async () => {
  const dir = tempDir();
  // Carol votes and is then forgotten; Bob votes under his LID.
  version4(dir, [
    [ALICE.pn, 'Pizza', 1000],
    [CAROL, 'Salad', 1200],
    [BOB.lid, 'Pasta', 1500],
    [CAROL, null, 0],
  ]);
  let { db, polls } = openSqlite(dir);
  expect(votersOfP(polls)).toEqual([
    [BOB.lid, [optionHash('Pasta')], 1500],
    [ALICE.pn, [optionHash('Pizza')], 1000],
  ]);
  // One batch: Alice changes her mind, Bob's PN takes his LID's vote over (the LID forgotten
  // inside the batch), Carol votes again.
  polls.applyVote('P', vote(ALICE.pn, 'Salad', 3000), 0);
  polls.applyVote('P', vote(BOB.pn, 'Pizza', 4000), 0, [BOB.lid]);
  polls.applyVote('P', vote(CAROL, 'Pasta', 5000), 0);
  await polls.flush();
  expect([count(db, 'vote_log'), count(db, 'vote_batches')]).toEqual([4, 1]);
  expect(
    db
      .prepare('SELECT batch > 0 AS batched, voter, selected FROM vote_entries ORDER BY batch, i')
      .all(),
  ).toEqual([
    { batched: 0, voter: ALICE.pn, selected: JSON.stringify([optionHash('Pizza')]) },
    { batched: 0, voter: CAROL, selected: JSON.stringify([optionHash('Salad')]) },
    { batched: 0, voter: BOB.lid, selected: JSON.stringify([optionHash('Pasta')]) },
    { batched: 0, voter: CAROL, selected: null },
    { batched: 1, voter: ALICE.pn, selected: JSON.stringify([optionHash('Salad')]) },
    { batched: 1, voter: BOB.lid, selected: null },
    { batched: 1, voter: BOB.pn, selected: JSON.stringify([optionHash('Pizza')]) },
    { batched: 1, voter: CAROL, selected: JSON.stringify([optionHash('Pasta')]) },
  ]);
  const before = votersOfP(polls);
  db.close();

  ({ db, polls } = openSqlite(dir));
  expect(votersOfP(polls)).toEqual(before);
  expect(before.map(([voter]) => voter)).toEqual([CAROL, ALICE.pn, BOB.pn]);
  // The view of each voter's current vote reads both formats, message ids included.
  expect(
    db.prepare('SELECT voter, timestamp_ms, message_id FROM votes ORDER BY voter').all(),
  ).toEqual([
    { voter: CAROL, timestamp_ms: 5000, message_id: 'M5000' },
    { voter: ALICE.pn, timestamp_ms: 3000, message_id: 'M3000' },
    { voter: BOB.pn, timestamp_ms: 4000, message_id: 'M4000' },
  ]);
  // A vote delivered again is recognised from a batch entry, as from a row.
  expect(polls.applyVote('P', vote(BOB.pn, 'Pizza', 4000), 0)).toEqual({ kind: 'duplicate' });
  db.close();
});

it('compacts old rows and batches into one entry per live voter, and later batches replay after them', async () => {
  const dir = tempDir();
  // 900 changes of Alice's in version 4's rows (too few to compact), and Carol, then forgotten.
  // Bob's LID votes there too; his PN takes the vote over in a batch.
  const rows: [string, string | null, number][] = [
    [CAROL, 'Salad', 1],
    [BOB.lid, 'Salad', 1],
  ];
  for (let t = 2; t <= 901; t++) rows.push([ALICE.pn, OPTIONS[t % 3]!, t]);
  rows.push([CAROL, null, 0]);
  version4(dir, rows);
  let { db, polls } = openSqlite(dir);
  expect([count(db, 'vote_log'), count(db, 'vote_batches')]).toEqual([903, 0]);
  // ...then 900 more, in batches of 100.
  for (let t = 902; t <= 1_801; t++) {
    polls.applyVote('P', vote(ALICE.pn, OPTIONS[t % 3]!, t), 0);
    if (t % 100 === 1) await polls.flush();
  }
  polls.applyVote('P', vote(BOB.pn, 'Pasta', 3000), 0, [BOB.lid]);
  await polls.flush();
  const before = votersOfP(polls);
  expect(before).toEqual([
    [ALICE.pn, [optionHash(OPTIONS[1_801 % 3]!)], 1_801],
    [BOB.pn, [optionHash('Pasta')], 3000],
  ]);
  db.close();

  // Replayed and compacted: one entry per live voter (Carol forgotten), in one batch; no row.
  ({ db, polls } = openSqlite(dir));
  expect(votersOfP(polls)).toEqual(before);
  expect([count(db, 'vote_log'), count(db, 'vote_batches')]).toEqual([0, 1]);
  expect(
    db.prepare('SELECT voter, timestamp_ms, message_id FROM vote_entries ORDER BY voter').all(),
  ).toEqual([
    { voter: ALICE.pn, timestamp_ms: 1_801, message_id: 'M1801' },
    { voter: BOB.pn, timestamp_ms: 3000, message_id: 'M3000' },
  ]);
  // A vote after the compaction is a batch, replayed after the compacted one: it wins.
  polls.applyVote('P', vote(ALICE.pn, 'Pizza', 2_500), 0);
  await polls.flush();
  db.close();
  ({ db, polls } = openSqlite(dir));
  expect(votersOfP(polls)).toEqual([
    [ALICE.pn, [optionHash('Pizza')], 2_500],
    [BOB.pn, [optionHash('Pasta')], 3000],
  ]);
  db.close();
});

it('writes a batch that fails to commit not at all, and the next flush writes it whole', async () => {
  const dir = tempDir();
  version4(dir, []);
  const { db, polls } = openSqlite(dir);
  polls.applyVote('P', vote(ALICE.pn, 'Pizza', 1000), 0);
  polls.applyVote('P', vote(BOB.pn, 'Pasta', 1001), 0);
  // The poll's counters update fails after the batch's insert: the transaction takes both back.
  db.exec(
    `CREATE TRIGGER refuse BEFORE UPDATE ON poll_counters BEGIN SELECT raise(ABORT, 'full'); END`,
  );
  expect(() => polls.flush()).toThrow(/full/);
  expect(count(db, 'vote_batches')).toBe(0);
  db.exec('DROP TRIGGER refuse');
  expect(polls.flush()).toHaveLength(2);
  expect(count(db, 'vote_batches')).toBe(1);
  db.close();
  const again = openSqlite(dir);
  expect(votersOfP(again.polls).map(([voter]) => voter)).toEqual([ALICE.pn, BOB.pn]);
  again.db.close();
});
