import type { Logger } from '@pollmasters/shared';
import { type AuthStore, useSqliteAuthState } from './authState.js';
import { type ChatStore, SqliteChatStore } from './chatStore.js';
import type { Checkpointer } from './checkpointer.js';
import { openDatabase } from './database.js';
import { type EarlyVoteStore, SqliteEarlyVoteStore } from './earlyVotes.js';
import { dataLayout } from './layout.js';
import { PgAuthStore } from './pg/pgAuthStore.js';
import { PgChatStore } from './pg/pgChats.js';
import { PgEarlyVoteStore } from './pg/pgEarlyVotes.js';
import { pgPollBackend } from './pg/pgPolls.js';
import type { PgPools } from './pg/pgPools.js';
import { type FencedError, PgSession } from './pg/pgSession.js';
import { PgWebhookStore } from './pg/pgWebhooks.js';
import { PollStore } from './pollStore.js';
import { SqliteWebhookStore } from './sqliteWebhookStore.js';
import type { WebhookStore } from './webhookStore.js';

/** A session's store, on either engine: what its worker reads and writes. */
export interface SessionStore {
  readonly polls: PollStore;
  readonly chats: ChatStore;
  readonly earlyVotes: EarlyVoteStore;
  readonly auth: AuthStore;
  readonly webhooks: WebhookStore;
  /** Settles once the writes made so far are committed (or failed). */
  settled(): Promise<void>;
  /** Waits for the writes made so far, then lets the database go. */
  close(): Promise<void>;
}

/**
 * The session's SQLite database in its folder, its WAL checkpoints on the worker's thread
 * (without one, SQLite checkpoints as it commits).
 */
export const openSqliteStore = (dir: string, checkpointer?: Checkpointer): SessionStore => {
  const db = openDatabase(dir, dataLayout.databaseName);
  const checkpoints = checkpointer?.add(db);
  return {
    polls: PollStore.sqlite(db),
    chats: new SqliteChatStore(db),
    earlyVotes: new SqliteEarlyVoteStore(db),
    auth: useSqliteAuthState(db),
    webhooks: new SqliteWebhookStore(db),
    // SQLite commits as it writes.
    settled: () => Promise.resolve(),
    close: async () => {
      // The checkpoint thread's connection closes first: then ours is the last, and closing
      // it folds the WAL into the database file.
      await checkpoints?.close();
      db.close();
    },
  };
};

export interface PgStoreOptions {
  sessionId: string;
  /** The session's fencing token (from its lease), if it has one. */
  fence?: number | undefined;
  logger: Logger;
  /** A write found a newer owner's token: the session must stop. */
  onFenced?: (err: FencedError) => void;
}

/** The session's rows in PostgreSQL (its fencing token installed first, when given). */
export const openPgStore = async (
  pools: PgPools,
  url: string,
  options: PgStoreOptions,
): Promise<SessionStore> => {
  const pool = await pools.get(url);
  const pg = new PgSession(pool, options.sessionId, options.fence, options.onFenced);
  await pg.claim();
  const [polls, chats, earlyVotes, auth] = await Promise.all([
    PollStore.open(pgPollBackend(pg), options.logger),
    PgChatStore.open(pg, options.logger),
    PgEarlyVoteStore.open(pg, options.logger),
    PgAuthStore.open(pg, options.logger),
  ]);
  return {
    polls,
    chats,
    earlyVotes,
    auth,
    webhooks: new PgWebhookStore(pg),
    settled: () => pg.settled(),
    // The pool is the worker's: it stays for the other sessions.
    close: () => {
      polls.close();
      return pg.settled();
    },
  };
};
