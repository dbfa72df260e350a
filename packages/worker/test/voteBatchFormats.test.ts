import { join } from 'node:path';
import { optionHash } from '@pollmasters/shared/node';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { migrations } from '../src/store/database.js';
import { ALICE, BOB, GROUP, OPTIONS, tempDirs, storedVote as vote } from './fixtures.js';
import { insertOldPoll } from './shippedSchema.js';
import { openSqlite, votersOfP } from './sqliteLog.js';

/*
 * The vote log's batches from version 7 on name their polls once and their timestamps as
 * offsets; batches of version 5's format, written before, replay, list and compact with them.
 */

const tempDir = tempDirs('pollmasters-batchformats-');
const CAROL = '4915100000003@s.whatsapp.net';
const options = OPTIONS.map((name) => ({ name, hash: optionHash(name) }));
const hash = (option: string) => [optionHash(option)];

/** A database at version 6 with poll P and one batch in version 5's format. */
const version6 = (dir: string): void => {
  const db = new Database(join(dir, 'test.sqlite'));
  for (const migration of migrations.slice(0, 4)) db.exec(migration);
  insertOldPoll(db, GROUP, options, { unknownOptionVotes: 0, version: 2 });
  for (const migration of migrations.slice(4, 6)) db.exec(migration);
  db.pragma('user_version = 6');
  const batch = {
    s: [hash('Pizza'), hash('Salad')],
    v: [
      ['P', ALICE.pn, 'Alice', 0, 1000, 'M1000'],
      ['P', CAROL, null, 1, 1100, 'M1100'],
    ],
  };
  db.prepare('INSERT INTO vote_batches (votes) VALUES (?)').run(JSON.stringify(batch));
  db.close();
};

const entriesOf = (db: Database.Database) =>
  db
    .prepare('SELECT poll_id, voter, selected, timestamp_ms, message_id FROM vote_entries')
    .raw()
    .all();

it('replays and lists batches of both formats in order, timestamps exact', async () => {
  const dir = tempDir();
  version6(dir);
  let { db, polls } = openSqlite(dir);
  expect(votersOfP(polls)).toEqual([
    [CAROL, hash('Salad'), 1100],
    [ALICE.pn, hash('Pizza'), 1000],
  ]);
  // A batch with a timestamp that is no whole number (offsets would not add up exactly), then
  // one where Bob's PN takes his LID's vote over (the LID forgotten: timestamp 0).
  polls.applyVote('P', vote(ALICE.pn, 'Salad', 3000.5), 0);
  await polls.flush();
  polls.applyVote('P', vote(BOB.lid, 'Pasta', 4000), 0);
  polls.applyVote('P', vote(BOB.pn, 'Pizza', 1_700_000_000_123), 0, [BOB.lid]);
  await polls.flush();
  const batches = db.prepare('SELECT votes FROM vote_batches ORDER BY seq').pluck().all();
  expect(batches.map((json) => 'p' in JSON.parse(json as string))).toEqual([false, true, true]);
  expect(JSON.parse(batches[2] as string)).toMatchObject({ p: ['P'], t: 4000 });

  const listed = [
    ['P', ALICE.pn, JSON.stringify(hash('Pizza')), 1000, 'M1000'],
    ['P', CAROL, JSON.stringify(hash('Salad')), 1100, 'M1100'],
    ['P', ALICE.pn, JSON.stringify(hash('Salad')), 3000.5, 'M3000.5'],
    ['P', BOB.lid, JSON.stringify(hash('Pasta')), 4000, 'M4000'],
    ['P', BOB.lid, null, 0, null],
    ['P', BOB.pn, JSON.stringify(hash('Pizza')), 1_700_000_000_123, 'M1700000000123'],
  ];
  expect(entriesOf(db)).toEqual(listed);
  const before = votersOfP(polls);
  db.close();

  ({ db, polls } = openSqlite(dir));
  expect(votersOfP(polls)).toEqual(before);
  expect(before).toEqual([
    [CAROL, hash('Salad'), 1100],
    [ALICE.pn, hash('Salad'), 3000.5],
    [BOB.pn, hash('Pizza'), 1_700_000_000_123],
  ]);
  expect(db.prepare('SELECT voter FROM votes ORDER BY voter').pluck().all()).toEqual([
    CAROL,
    ALICE.pn,
    BOB.pn,
  ]);
  db.close();
});

it('compacts batches of both formats into batches of the new one, every live vote kept', async () => {
  const dir = tempDir();
  version6(dir);
  let { db, polls } = openSqlite(dir);
  // Enough of Alice's changes (a poll of few voters) that the log is compacted at the next start.
  for (let t = 2_000; t < 3_100; t++) {
    polls.applyVote('P', vote(ALICE.pn, OPTIONS[t % 3]!, t), 0);
    if (t % 250 === 0) await polls.flush();
  }
  await polls.flush();
  const before = votersOfP(polls);
  db.close();

  ({ db, polls } = openSqlite(dir));
  expect(votersOfP(polls)).toEqual(before);
  const batches = db.prepare('SELECT votes FROM vote_batches').pluck().all() as string[];
  expect(batches.map((json) => 'p' in JSON.parse(json))).toEqual([true]);
  expect(entriesOf(db)).toEqual([
    ['P', ALICE.pn, JSON.stringify(hash(OPTIONS[3_099 % 3]!)), 3_099, 'M3099'],
    ['P', CAROL, JSON.stringify(hash('Salad')), 1100, 'M1100'],
  ]);
  db.close();
  ({ db, polls } = openSqlite(dir));
  expect(votersOfP(polls)).toEqual(before);
  db.close();
});
