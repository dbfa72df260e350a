import { openDatabase } from '../src/store/database.js';
import { PollStore } from '../src/store/pollStore.js';

/** The store as a process start opens it: the database in `dir`, migrated and replayed. */
export const openSqlite = (dir: string) => {
  const db = openDatabase(dir, 'test');
  return { db, polls: PollStore.sqlite(db) };
};

/** Poll P's voters as [voter, selection, timestamp]. */
export const votersOfP = (polls: PollStore) =>
  polls.toPoll(polls.get('P')!).voters.map((v) => [v.voter, v.selected, v.timestampMs]);
