import { join } from 'node:path';
import { optionHash } from '@pollmasters/shared/node';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrations, openDatabase } from '../src/store/database.js';
import {
  ALICE,
  lunchPoll as addPoll,
  BOB,
  GROUP,
  OPTIONS,
  tempDirs,
  storedVote as vote,
} from './fixtures.js';
import { insertOldPoll, V1_POLLS, V1_VOTES } from './shippedSchema.js';
import { openSqlite } from './sqliteLog.js';
import { engines, storeHomes } from './storeEngines.js';

const tempDir = tempDirs('pollmasters-votelog-');

const options = OPTIONS.map((name) => ({ name, hash: optionHash(name) }));

it('migrates a version 1 database: every stored vote is kept, and `votes` still lists them', () => {
  const dir = tempDir();
  const v1 = new Database(join(dir, 'test.sqlite'));
  v1.exec(V1_POLLS + V1_VOTES);
  v1.pragma('user_version = 1');
  insertOldPoll(v1, GROUP, options, { unknownOptionVotes: 0, version: 2 });
  const insert = v1.prepare(
    'INSERT INTO votes (poll_id, voter, name, selected, timestamp_ms, message_id) VALUES (?, ?, ?, ?, ?, ?)',
  );
  insert.run('P', ALICE.pn, 'Alice', JSON.stringify([optionHash('Pizza')]), 1000, 'M1');
  insert.run('P', BOB.pn, null, JSON.stringify([optionHash('Salad')]), 2000, null);
  v1.close();

  const { db, polls } = openSqlite(dir);
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

describe.each(engines)('on %s', (engine) => {
  const home = storeHomes(engine, 'votelog');
  // SQLite keeps a batch of votes in one row (`vote_batches`); `vote_entries` lists them one
  // entry per vote, after the per-vote rows of `vote_log`, in replay order.
  const [logTable, logOrder] =
    engine === 'sqlite' ? ['vote_entries', 'batch, i'] : ['vote_log', 'seq'];

  it('replays the log after a restart, and compacts it once most of it is obsolete', async () => {
    const place = home();
    let store = await place.open();
    let { polls } = store;
    await addPoll(polls);
    // Alice changes her mind 1,500 times, each change committed on its own: 1,500 rows.
    for (let t = 1; t <= 1_500; t++) {
      polls.applyVote('P', vote(ALICE.pn, OPTIONS[t % 3]!, t), 0);
      await polls.flush();
    }
    // Bob votes under his LID, then his PN takes the vote over: the LID is forgotten.
    polls.applyVote('P', vote(BOB.lid, 'Pasta', 10), 0);
    await polls.flush();
    polls.applyVote('P', vote(BOB.pn, 'Salad', 20), 0, [BOB.lid]);
    await polls.flush();
    const before = polls.toPoll(polls.get('P')!);
    expect(before.voters.map((v) => v.voter)).toEqual([ALICE.pn, BOB.pn].sort());
    expect(await place.rows(logTable)).toBe(1_500 + 3);
    // Each row keeps the id of the message that carried it (none for a forgotten voter).
    const rows = await place.select(logTable, 'voter, message_id', logOrder);
    expect(rows.filter((r) => r.voter !== ALICE.pn)).toEqual([
      { voter: BOB.lid, message_id: 'M10' },
      { voter: BOB.lid, message_id: null },
      { voter: BOB.pn, message_id: 'M20' },
    ]);
    await store.close();

    // The restart replays it all to the same state, and keeps one row per voter.
    store = await place.open();
    ({ polls } = store);
    expect(polls.toPoll(polls.get('P')!)).toEqual(before);
    expect(await place.rows(logTable)).toBe(2);
    await store.close();

    store = await place.open();
    expect(store.polls.toPoll(store.polls.get('P')!)).toEqual(before);
    await store.close();
    place.remove();
  });

  it('replays a vote and its takeover by the same person in one batch in the order they happened', async () => {
    const place = home();
    let store = await place.open();
    await addPoll(store.polls);
    // One transaction: Bob votes under his LID, then his PN takes the vote over.
    store.polls.applyVote('P', vote(BOB.lid, 'Pasta', 10), 0);
    store.polls.applyVote('P', vote(BOB.pn, 'Salad', 20), 0, [BOB.lid]);
    await store.polls.flush();
    await store.close();
    store = await place.open();
    const { polls } = store;
    expect(polls.toPoll(polls.get('P')!).voters.map((v) => [v.voter, v.selected])).toEqual([
      [BOB.pn, [optionHash('Salad')]],
    ]);
    await store.close();
    place.remove();
  });
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

it('builds a fresh database at the latest version, and opening it again changes nothing', () => {
  const dir = tempDir();
  const { db, polls } = openSqlite(dir);
  expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
  addPoll(polls);
  const before = db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY type, name').all();
  db.close();
  const again = openSqlite(dir);
  expect(again.db.pragma('user_version', { simple: true })).toBe(migrations.length);
  expect(
    again.db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY type, name').all(),
  ).toEqual(before);
  expect(again.polls.get('P')?.question).toBe('Lunch?');
  again.db.close();
});
