import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@pollmasters/shared';
import Database from 'better-sqlite3';
import { dataLayout } from './layout.js';

/** The single session's database as versions before sessions kept it: in the data dir itself. */
const LEGACY_DB = 'default.sqlite';
/** What the sandbox network kept in the data dir itself before sessions. */
const LEGACY_SANDBOX_FILES = ['polls.jsonl', 'ledger.jsonl', 'mailbox.jsonl', 'revoked.json'];
const SQLITE_SIDE_FILES = ['-wal', '-shm'];

/**
 * Makes a data dir written before sessions existed into the session `default`: its database
 * (with its login, polls and votes) and its sandbox state move into `sessions/default/`.
 * Call before any worker opens a database. Nothing happens when there is nothing to move, or
 * when `sessions/default/` exists already.
 *
 * Safe to interrupt: the files move into a staging folder first, which becomes the session's
 * folder by one atomic rename; a run that finds the staging folder finishes the move.
 * @returns whether a legacy data dir was upgraded.
 */
export const adoptLegacyDataDir = (dataDir: string, logger: Logger): boolean => {
  const target = dataLayout.sessionDir(dataDir, 'default');
  if (existsSync(target)) return false;
  const staging = join(dataLayout.sessionsDir(dataDir), '.default.upgrading');
  const legacyDb = join(dataDir, LEGACY_DB);
  if (!existsSync(legacyDb) && !existsSync(staging)) return false;

  if (existsSync(legacyDb)) {
    // Fold the WAL into the database file, so that the file moved is the whole database.
    const db = new Database(legacyDb, { fileMustExist: true });
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
  }
  const stagingSandbox = dataLayout.sandboxDir(staging);
  mkdirSync(stagingSandbox, { recursive: true, mode: 0o700 });
  const dbFile = `${dataLayout.databaseName}.sqlite`;
  const moves: Array<[string, string]> = [
    // The side files first: a database never sits in the staging folder without its WAL.
    ...SQLITE_SIDE_FILES.map((s): [string, string] => [LEGACY_DB + s, join(staging, dbFile + s)]),
    [LEGACY_DB, join(staging, dbFile)],
    ...LEGACY_SANDBOX_FILES.map((f): [string, string] => [f, join(stagingSandbox, f)]),
  ];
  for (const [from, to] of moves) {
    const source = join(dataDir, from);
    if (existsSync(source)) renameSync(source, to);
  }
  renameSync(staging, target);
  logger.info({ sessionId: 'default' }, 'data dir upgraded: its account is the session default');
  return true;
};
