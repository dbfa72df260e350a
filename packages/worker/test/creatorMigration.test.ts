import { join } from 'node:path';
import { optionHash } from '@pollmasters/shared/node';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { migrations, openDatabase } from '../src/store/database.js';
import { PollStore } from '../src/store/pollStore.js';
import { ALICE, GROUP, ME, OPTIONS, tempDirs } from './fixtures.js';
import { V1_POLLS, V2_VOTE_LOG } from './shippedSchema.js';

const tempDir = tempDirs('pollmasters-migration3-');
const options = OPTIONS.map((name) => ({ name, hash: optionHash(name) }));

it('migrates a version 2 database: its polls are the account own, creator PN else LID, votes kept', () => {
  const dir = tempDir();
  const v2 = new Database(join(dir, 'test.sqlite'));
  v2.exec(V1_POLLS + V2_VOTE_LOG);
  v2.pragma('user_version = 2');
  const insertPoll = v2.prepare(
    `INSERT INTO polls (id, chat_id, question, options, selectable_count, created_at, secret,
       creator_jids, message, unknown_option_votes, version)
     VALUES (?, ?, 'Lunch?', ?, 1, 1, x'00', ?, x'01', 0, 1)`,
  );
  insertPoll.run('BOTH', GROUP, JSON.stringify(options), JSON.stringify([ME.pn, ME.lid]));
  // Sent before our PN was known: our LID is all it has.
  insertPoll.run('LID', GROUP, JSON.stringify(options), JSON.stringify([ME.lid]));
  v2.prepare(
    `INSERT INTO vote_log (poll_id, voter, name, selected, timestamp_ms, message_id)
     VALUES ('BOTH', ?, 'Alice', ?, 1000, 'M1')`,
  ).run(ALICE.pn, JSON.stringify([optionHash('Pizza')]));
  v2.close();

  const db = openDatabase(dir, 'test');
  expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
  const polls = PollStore.sqlite(db);
  const both = polls.toPoll(polls.get('BOTH')!);
  expect(both.creator).toEqual({ jid: ME.pn, fromMe: true });
  expect(both.voters).toEqual([
    { voter: ALICE.pn, name: 'Alice', selected: [optionHash('Pizza')], timestampMs: 1000 },
  ]);
  expect(polls.toPoll(polls.get('LID')!).creator).toEqual({ jid: ME.lid, fromMe: true });
  expect(db.prepare('SELECT count(*) AS n FROM early_votes').get()).toEqual({ n: 0 });
  db.close();
});

it('stores the creator of another member poll and reads it back after a restart', () => {
  const dir = tempDir();
  let db = openDatabase(dir, 'test');
  PollStore.sqlite(db).add({
    id: 'THEIRS',
    chatId: GROUP,
    creator: { jid: ALICE.pn, fromMe: false },
    question: 'Film?',
    options,
    selectableCount: 0,
    createdAt: 5,
    secret: new Uint8Array(32),
    creatorJids: [ALICE.lid, ALICE.pn],
    message: new Uint8Array([1]),
  });
  db.close();
  db = openDatabase(dir, 'test');
  const polls = PollStore.sqlite(db);
  expect(polls.toPoll(polls.get('THEIRS')!).creator).toEqual({ jid: ALICE.pn, fromMe: false });
  expect(polls.get('THEIRS')!.creatorJids).toEqual([ALICE.lid, ALICE.pn]);
  db.close();
});
