import { join } from 'node:path';
import { optionHash } from '@pollmasters/shared/node';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { type Db, migrations, openDatabase } from '../src/store/database.js';
import { PollStore } from '../src/store/pollStore.js';
import { ALICE, BOB, GROUP, OPTIONS, tempDirs } from './fixtures.js';
import { V1_POLLS, V1_VOTES } from './shippedSchema.js';

const tempDir = tempDirs('pollmasters-votelog-');

const options = OPTIONS.map((name) => ({ name, hash: optionHash(name) }));
const addPoll = (polls: PollStore) =>
  polls.add({
    id: 'P',
    chatId: GROUP,
    creator: { jid: '', fromMe: true },
    question: 'Lunch?',
    options,
    selectableCount: 1,
    createdAt: 1_700_000_000_000,
    secret: new Uint8Array(32),
    creatorJids: [],
    message: new Uint8Array([1]),
  });
const vote = (voter: string, option: string, timestampMs: number) => ({
  voter,
  name: undefined,
  selected: [optionHash(option)],
  timestampMs,
  messageId: `M${timestampMs}`,
});

const logRows = (db: Db) =>
  (db.prepare('SELECT count(*) AS n FROM vote_log').get() as { n: number }).n;

/** The store as a process start opens it: the database in `dir`, migrated and replayed. */
const open = (dir: string) => {
  const db = openDatabase(dir, 'test');
  return { db, polls: PollStore.sqlite(db) };
};

it('migrates a version 1 database: every stored vote is kept, and `votes` still lists them', () => {
  const dir = tempDir();
  const v1 = new Database(join(dir, 'test.sqlite'));
  v1.exec(V1_POLLS + V1_VOTES);
  v1.pragma('user_version = 1');
  v1.prepare(
    `INSERT INTO polls (id, chat_id, question, options, selectable_count, created_at, secret,
       creator_jids, message, unknown_option_votes, version)
     VALUES ('P', ?, 'Lunch?', ?, 1, 1, NULL, '[]', x'01', 0, 2)`,
  ).run(GROUP, JSON.stringify(options));
  const insert = v1.prepare(
    'INSERT INTO votes (poll_id, voter, name, selected, timestamp_ms, message_id) VALUES (?, ?, ?, ?, ?, ?)',
  );
  insert.run('P', ALICE.pn, 'Alice', JSON.stringify([optionHash('Pizza')]), 1000, 'M1');
  insert.run('P', BOB.pn, null, JSON.stringify([optionHash('Salad')]), 2000, null);
  v1.close();

  const { db, polls } = open(dir);
  expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
  expect(polls.toPoll(polls.get('P')!).voters).toEqual([
    { voter: ALICE.pn, name: 'Alice', selected: [optionHash('Pizza')], timestampMs: 1000 },
    { voter: BOB.pn, selected: [optionHash('Salad')], timestampMs: 2000 },
  ]);
  // A vote delivered again (same time, same selection) is recognised after the migration.
  expect(polls.applyVote('P', { ...vote(ALICE.pn, 'Pizza', 1000), messageId: 'M1' }, 0)).toEqual({
    kind: 'duplicate',
  });
  // The message ids came along into the log.
  expect(db.prepare('SELECT voter, message_id FROM votes ORDER BY voter').all()).toEqual([
    { voter: ALICE.pn, message_id: 'M1' },
    { voter: BOB.pn, message_id: null },
  ]);
  db.close();
});

it('replays the log after a restart, and compacts it once most of it is obsolete', () => {
  const dir = tempDir();
  let { db, polls } = open(dir);
  addPoll(polls);
  // Alice changes her mind 1,500 times, each change committed on its own: 1,500 rows.
  for (let t = 1; t <= 1_500; t++) {
    polls.applyVote('P', vote(ALICE.pn, OPTIONS[t % 3]!, t), 0);
    polls.flush();
  }
  // Bob votes under his LID, then his PN takes the vote over: the LID is forgotten.
  polls.applyVote('P', vote(BOB.lid, 'Pasta', 10), 0);
  polls.flush();
  polls.applyVote('P', vote(BOB.pn, 'Salad', 20), 0, [BOB.lid]);
  polls.flush();
  const before = polls.toPoll(polls.get('P')!);
  expect(before.voters.map((v) => v.voter)).toEqual([ALICE.pn, BOB.pn].sort());
  expect(logRows(db)).toBe(1_500 + 3);
  // Each row keeps the id of the message that carried it (none for a forgotten voter).
  expect(
    db
      .prepare('SELECT voter, message_id FROM vote_log WHERE voter != ? ORDER BY seq')
      .all(ALICE.pn),
  ).toEqual([
    { voter: BOB.lid, message_id: 'M10' },
    { voter: BOB.lid, message_id: null },
    { voter: BOB.pn, message_id: 'M20' },
  ]);
  db.close();

  // The restart replays it all to the same state, and keeps one row per voter.
  ({ db, polls } = open(dir));
  expect(polls.toPoll(polls.get('P')!)).toEqual(before);
  expect(logRows(db)).toBe(2);
  db.close();

  ({ db, polls } = open(dir));
  expect(polls.toPoll(polls.get('P')!)).toEqual(before);
  db.close();
});

it('replays a vote and its takeover by the same person in one batch in the order they happened', () => {
  const dir = tempDir();
  let { db, polls } = open(dir);
  addPoll(polls);
  // One transaction: Bob votes under his LID, then his PN takes the vote over.
  polls.applyVote('P', vote(BOB.lid, 'Pasta', 10), 0);
  polls.applyVote('P', vote(BOB.pn, 'Salad', 20), 0, [BOB.lid]);
  polls.flush();
  db.close();
  ({ db, polls } = open(dir));
  expect(polls.toPoll(polls.get('P')!).voters.map((v) => [v.voter, v.selected])).toEqual([
    [BOB.pn, [optionHash('Salad')]],
  ]);
  db.close();
});

it('refuses a database of a newer PollMasters, changing nothing', () => {
  const dir = tempDir();
  const file = join(dir, 'test.sqlite');
  const newer = new Database(file);
  newer.pragma(`user_version = ${migrations.length + 1}`);
  newer.close();
  expect(() => openDatabase(dir, 'test')).toThrow(/newer than this PollMasters/);
  const after = new Database(file, { readonly: true });
  expect(after.pragma('user_version', { simple: true })).toBe(migrations.length + 1);
  expect(
    after.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get(),
  ).toEqual({ n: 0 });
  after.close();
});
