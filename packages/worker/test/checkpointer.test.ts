import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { expect, it, vi } from 'vitest';
import { Checkpointer } from '../src/store/checkpointer.js';
import { type Db, openDatabase } from '../src/store/database.js';
import { tempDirs } from './fixtures.js';

const tempDir = tempDirs('pollmasters-ckpt-');

const open = () => {
  const dir = tempDir();
  const db = openDatabase(dir, 'test');
  db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  return { db, file: join(dir, 'test.sqlite') };
};

const insert = (db: Db, from: number, count: number) =>
  db.transaction(() => {
    const row = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    for (let i = from; i < from + count; i++) row.run(i, 'x'.repeat(200));
  })();

/** The process's threads (Linux): each worker thread adds several. */
const threads = () => readdirSync('/proc/self/task').length;

it('moves committed pages into the database file on its own thread; the writer never checkpoints', async () => {
  const { db, file } = open();
  const checkpointer = new Checkpointer(pino({ level: 'silent' }), 20);
  const watched = checkpointer.add(db);
  const before = statSync(file).size;
  // 2,000 pages and more: the writer alone would have checkpointed (at 1,000) by itself.
  insert(db, 0, 40_000);
  expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
  await vi.waitFor(() => expect(watched.checkpointed).toBeGreaterThan(2_000), {
    timeout: 5_000,
  });
  expect(statSync(file).size).toBeGreaterThan(before + 8_000_000);

  // Closing: the thread's connection first, then the writer's, the last, folds the WAL away.
  await watched.close();
  db.close();
  expect(existsSync(`${file}-wal`)).toBe(false);
  const reader = new Database(file, { readonly: true });
  expect(reader.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 40_000 });
  reader.close();
});

it('checkpoints many databases on one thread, not one thread each', async () => {
  const checkpointer = new Checkpointer(pino({ level: 'silent' }), 20);
  const first = open();
  const watched = [checkpointer.add(first.db)];
  // The thread is up (it answered for the first database).
  insert(first.db, 0, 10_000);
  await vi.waitFor(() => expect(watched[0]!.checkpointed).toBeGreaterThan(0), { timeout: 5_000 });
  const withOne = threads();
  const dbs = [first, ...Array.from({ length: 7 }, open)];
  for (const { db } of dbs.slice(1)) watched.push(checkpointer.add(db));
  expect(checkpointer.size).toBe(8);
  for (const [i, { db }] of dbs.entries()) insert(db, i === 0 ? 10_000 : 0, 10_000);
  await vi.waitFor(() => expect(watched.every((w) => w.checkpointed > 200)).toBe(true), {
    timeout: 5_000,
  });
  // Seven more databases, no more threads (a thread each would add seven and their helpers).
  expect(threads()).toBeLessThanOrEqual(withOne);
  for (const [i, w] of watched.entries()) {
    await w.close();
    dbs[i]!.db.close();
    expect(existsSync(`${dbs[i]!.file}-wal`)).toBe(false);
  }
  expect(checkpointer.size).toBe(0);
  // The last one gone, the thread ends; a new database gets a new one.
  await vi.waitFor(() => expect(threads()).toBeLessThan(withOne), { timeout: 5_000 });
  const again = open();
  const w = checkpointer.add(again.db);
  insert(again.db, 0, 10_000);
  await vi.waitFor(() => expect(w.checkpointed).toBeGreaterThan(0), { timeout: 5_000 });
  await w.close();
  again.db.close();
});

it('gives checkpoints back to the writers when its thread fails', async () => {
  const one = open();
  const two = open();
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
  const checkpointer = new Checkpointer(logger, 20);
  const watched = [checkpointer.add(one.db), checkpointer.add(two.db)];
  expect(one.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
  // The thread ends without being asked to (as a crash of it would).
  await (
    checkpointer as unknown as { thread: { terminate(): Promise<number> } }
  ).thread.terminate();
  for (const { db } of [one, two]) {
    await vi.waitFor(() => expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000), {
      timeout: 5_000,
    });
  }
  expect(warnings.join('')).toMatch(/writers checkpoint themselves again/);
  for (const w of watched) await w.close();
  one.db.close();
  two.db.close();
});
