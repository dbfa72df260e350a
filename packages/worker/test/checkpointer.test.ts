import { existsSync, statSync } from 'node:fs';
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

it('moves committed pages into the database file on its own thread; the writer never checkpoints', async () => {
  const { db, file } = open();
  const checkpointer = new Checkpointer(db, pino({ level: 'silent' }), 20);
  const before = statSync(file).size;
  // 2,000 pages and more: the writer alone would have checkpointed (at 1,000) by itself.
  insert(db, 0, 40_000);
  expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
  await vi.waitFor(() => expect(checkpointer.checkpointed).toBeGreaterThan(2_000), {
    timeout: 5_000,
  });
  expect(statSync(file).size).toBeGreaterThan(before + 8_000_000);

  // Closing: the thread's connection first, then the writer's, the last, folds the WAL away.
  await checkpointer.close();
  db.close();
  expect(existsSync(`${file}-wal`)).toBe(false);
  const reader = new Database(file, { readonly: true });
  expect(reader.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 40_000 });
  reader.close();
});

it('gives checkpoints back to the writer when its thread fails', async () => {
  const { db } = open();
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
  const checkpointer = new Checkpointer(db, logger, 20);
  expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
  // The thread ends without being asked to (as a crash of it would).
  await (
    checkpointer as unknown as { thread: { terminate(): Promise<number> } }
  ).thread.terminate();
  await vi.waitFor(() => expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000), {
    timeout: 5_000,
  });
  expect(warnings.join('')).toMatch(/writer checkpoints itself again/);
  await checkpointer.close();
  db.close();
});
