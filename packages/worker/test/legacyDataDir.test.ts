import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '@pollmasters/shared';
import { expect, it } from 'vitest';
import { openDatabase } from '../src/store/database.js';
import { dataLayout } from '../src/store/layout.js';
import { adoptLegacyDataDir } from '../src/store/legacyDataDir.js';
import { tempDirs } from './fixtures.js';

const tempDir = tempDirs('pollmasters-legacy-');

/**
 * A legacy data dir as a crash leaves it: `default.sqlite` with chats `c1`..`cN` of which
 * the last ones are only in its WAL (copied while the writer still had them there).
 */
const legacyDataDir = (chats: number) => {
  const writer = tempDir();
  const db = openDatabase(writer, 'default');
  db.pragma('wal_autocheckpoint = 0');
  const insert = db.prepare('INSERT INTO chats (id, name, is_group) VALUES (?, ?, 0)');
  for (let i = 1; i <= chats; i++) insert.run(`c${i}`, `Chat ${i}`);
  const dataDir = tempDir();
  for (const name of ['default.sqlite', 'default.sqlite-wal']) {
    copyFileSync(join(writer, name), join(dataDir, name));
  }
  db.close();
  writeFileSync(join(dataDir, 'ledger.jsonl'), '{"vote":1}\n');
  writeFileSync(join(dataDir, 'polls.jsonl'), '{"poll":1}\n');
  return dataDir;
};

const chatsIn = (dataDir: string) => {
  const db = openDatabase(dataLayout.sessionDir(dataDir, 'default'), dataLayout.databaseName);
  const ids = db.prepare('SELECT id FROM chats ORDER BY id').pluck().all();
  db.close();
  return ids;
};

it('moves the database with what only its WAL held, and the sandbox state, into sessions/default', () => {
  const dataDir = legacyDataDir(3);
  expect(adoptLegacyDataDir(dataDir, silentLogger)).toBe(true);

  expect(chatsIn(dataDir)).toEqual(['c1', 'c2', 'c3']);
  const sandbox = dataLayout.sandboxDir(dataLayout.sessionDir(dataDir, 'default'));
  expect(readdirSync(sandbox).sort()).toEqual(['ledger.jsonl', 'polls.jsonl']);
  expect(readdirSync(dataDir)).toEqual(['sessions']);
  // Once done, a second run changes nothing.
  expect(adoptLegacyDataDir(dataDir, silentLogger)).toBe(false);
  expect(chatsIn(dataDir)).toEqual(['c1', 'c2', 'c3']);
});

it('finishes an upgrade that was interrupted half way', () => {
  const dataDir = legacyDataDir(2);
  // As a crash after moving the sandbox's ledger into the staging folder leaves it.
  const staging = join(dataLayout.sessionsDir(dataDir), '.default.upgrading');
  mkdirSync(dataLayout.sandboxDir(staging), { recursive: true });
  renameSync(join(dataDir, 'ledger.jsonl'), join(dataLayout.sandboxDir(staging), 'ledger.jsonl'));

  expect(adoptLegacyDataDir(dataDir, silentLogger)).toBe(true);
  expect(chatsIn(dataDir)).toEqual(['c1', 'c2']);
  const sandbox = dataLayout.sandboxDir(dataLayout.sessionDir(dataDir, 'default'));
  expect(readdirSync(sandbox).sort()).toEqual(['ledger.jsonl', 'polls.jsonl']);
  expect(existsSync(staging)).toBe(false);
});

it('leaves a data dir without a legacy database as it is', () => {
  const dataDir = tempDir();
  expect(adoptLegacyDataDir(dataDir, silentLogger)).toBe(false);
  expect(readdirSync(dataDir)).toEqual([]);
});
