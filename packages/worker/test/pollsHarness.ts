import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PollTracking, type PollTrackingInput, silentLogger } from '@pollmasters/shared';
import type { WorkerEvent, WorkerEventOf } from '@pollmasters/shared/node';
import type { WAMessage } from '@whiskeysockets/baileys';
import { SessionPolls } from '../src/sessionPolls.js';
import { SqliteChatStore } from '../src/store/chatStore.js';
import { type Db, openDatabase } from '../src/store/database.js';
import { SqliteEarlyVoteStore } from '../src/store/earlyVotes.js';
import { PollStore } from '../src/store/pollStore.js';
import { ME, mappingIdentity } from './fixtures.js';

/**
 * A session's polls (SessionPolls) over a real SQLite store in a temp dir, with the events it
 * emitted; `reopen` starts it again on the same database, as after a restart.
 */
export const makePollsHarness = (
  tracking: PollTrackingInput = {},
  mapping: Record<string, string> = {},
) => {
  const dir = mkdtempSync(join(tmpdir(), 'pollmasters-polls-'));
  const events: WorkerEvent[] = [];
  const identity = mappingIdentity(ME, new Map(Object.entries(mapping)));
  let chain: Promise<void> = Promise.resolve();
  let db: Db;
  let polls: PollStore;
  let sessionPolls: SessionPolls;
  const open = () => {
    db = openDatabase(dir, 'test');
    polls = PollStore.sqlite(db);
    sessionPolls = new SessionPolls({
      polls,
      chats: new SqliteChatStore(db),
      earlyVotes: new SqliteEarlyVoteStore(db),
      tracking: PollTracking.parse(tracking),
      identity,
      emit: (e) => events.push(e),
      serial: (task) => {
        chain = chain.then(task);
      },
      logger: silentLogger,
    });
    sessionPolls.start();
  };
  open();
  const of = <T extends WorkerEvent['type']>(type: T) =>
    events.filter((e): e is WorkerEventOf<T> => e.type === type);
  return {
    events,
    get polls() {
      return polls;
    },
    get db() {
      return db;
    },
    /** Delivers messages as one live batch, once the tasks before it are done. */
    async deliver(...messages: WAMessage[]) {
      await chain;
      await sessionPolls.onMessages(messages);
      await chain;
    },
    async history(...messages: WAMessage[]) {
      await chain;
      await sessionPolls.onHistory(messages);
      await chain;
    },
    /** Waits for the queued tasks (start, timers, sends). */
    idle: () => chain,
    record: (msg: WAMessage) => sessionPolls.record(msg),
    changes: () => of('votes').flatMap((e) => e.changes),
    rejected: () => of('voteRejected').map((e) => e.rejection),
    reports: () => of('earlyVotes'),
    stored: () => of('pollSent').map((e) => e.poll),
    poll: (id: string) => polls.toPoll(polls.get(id)!),
    waitingRows: () =>
      (db.prepare('SELECT count(*) AS n FROM early_votes').get() as { n: number }).n,
    /** Closes everything and opens it again on the same database. */
    async reopen() {
      await chain;
      sessionPolls.close();
      db.close();
      open();
      await chain;
    },
    async close() {
      await chain;
      sessionPolls.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
export type PollsHarness = ReturnType<typeof makePollsHarness>;
