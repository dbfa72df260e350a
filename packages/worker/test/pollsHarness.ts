import { PollTracking, type PollTrackingInput, silentLogger } from '@pollmasters/shared';
import type { WorkerEvent, WorkerEventOf } from '@pollmasters/shared/node';
import type { WAMessage } from '@whiskeysockets/baileys';
import { SessionPolls } from '../src/sessionPolls.js';
import type { PollStore } from '../src/store/pollStore.js';
import type { SessionStore } from '../src/store/sessionStore.js';
import { ME, mappingIdentity } from './fixtures.js';
import type { StoreHome } from './storeEngines.js';

/**
 * A session's polls (SessionPolls) over a real store (./storeEngines.ts: a SQLite file, or a
 * PostgreSQL database), with the events it emitted; `reopen` starts it again on the same
 * store, as after a restart.
 */
export const makePollsHarness = async (
  home: StoreHome,
  tracking: PollTrackingInput = {},
  mapping: Record<string, string> = {},
  maxUncommitted?: number,
) => {
  const events: WorkerEvent[] = [];
  const identity = mappingIdentity(ME, new Map(Object.entries(mapping)));
  let chain: Promise<void> = Promise.resolve();
  let store: SessionStore;
  let polls: PollStore;
  let sessionPolls: SessionPolls;
  const open = async () => {
    store = await home.open();
    polls = store.polls;
    sessionPolls = new SessionPolls({
      polls,
      chats: store.chats,
      earlyVotes: store.earlyVotes,
      tracking: PollTracking.parse(tracking),
      identity,
      emit: (e) => events.push(e),
      serial: (task) => {
        chain = chain.then(task);
      },
      logger: silentLogger,
      ...(maxUncommitted === undefined ? {} : { maxUncommitted }),
    });
    sessionPolls.start();
  };
  await open();
  const of = <T extends WorkerEvent['type']>(type: T) =>
    events.filter((e): e is WorkerEventOf<T> => e.type === type);
  return {
    events,
    get polls() {
      return polls;
    },
    get store() {
      return store;
    },
    /** Delivers messages as one live batch, once the tasks before it are done. */
    async deliver(...messages: WAMessage[]) {
      await chain;
      await sessionPolls.onMessages(messages);
      await chain;
    },
    /** Queues messages as the session's socket does: one live batch, in turn, not awaited. */
    arrive(...messages: WAMessage[]) {
      chain = chain.then(() => sessionPolls.onLive(messages));
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
    /** Early votes stored (once every write so far is committed). */
    waitingRows: async () => {
      await chain;
      await store.settled();
      return home.rows('early_votes');
    },
    /** Closes everything and opens it again on the same database. */
    async reopen() {
      await chain;
      await sessionPolls.close();
      await store.close();
      await open();
      await chain;
    },
    async close() {
      await chain;
      await sessionPolls.close();
      await store.close();
      home.remove();
    },
  };
};
export type PollsHarness = Awaited<ReturnType<typeof makePollsHarness>>;
