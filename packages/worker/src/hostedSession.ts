import type { SessionOpen, WorkerEvent } from '@pollmasters/shared/node';
import type { Logger } from 'pino';
import { WhatsAppSession } from './session.js';
import type { MakePollSocket } from './socket.js';
import { useSqliteAuthState } from './store/authState.js';
import { ChatStore } from './store/chatStore.js';
import type { Checkpointer } from './store/checkpointer.js';
import { openDatabase } from './store/database.js';
import { EarlyVoteStore } from './store/earlyVotes.js';
import { dataLayout } from './store/layout.js';
import { PollStore } from './store/pollStore.js';
import { openWebhooks, type SessionWebhooks } from './webhooks/sessionWebhooks.js';

/** One session as its worker hosts it: its database, its WhatsApp session, its sandbox. */
export interface HostedSession {
  readonly session: WhatsAppSession;
  readonly webhooks: SessionWebhooks;
  readonly pollCount: number;
  /** Disconnects, flushes pending writes and closes the database. */
  close(): Promise<void>;
}

export interface HostDeps {
  sessionId: string;
  emit: (event: WorkerEvent) => void;
  logger: Logger;
  /** The worker's socket factory (Baileys, or the module it was told to load). */
  makeSocket: () => Promise<MakePollSocket>;
  /** The worker's one checkpoint thread, shared by every session it hosts. */
  checkpointer: Checkpointer;
}

/** Opens a session's database and starts its WhatsApp session. */
export const openHostedSession = async (
  open: SessionOpen,
  deps: HostDeps,
): Promise<HostedSession> => {
  // In sandbox mode each session has a simulated network of its own: its own account and world.
  const sandbox = open.sandbox
    ? (await import('./sandbox/index.js')).createSandbox(open.sandbox)
    : undefined;
  const makeSocket = sandbox ? sandbox.makeWASocket : await deps.makeSocket();
  const db = openDatabase(open.dataDir, dataLayout.databaseName);
  const checkpoints = deps.checkpointer.add(db);
  const polls = new PollStore(db);
  const webhooks = openWebhooks(db, deps.sessionId, open.webhooks, deps.emit, deps.logger);
  const session = new WhatsAppSession({
    makeSocket,
    auth: useSqliteAuthState(db),
    polls,
    chats: new ChatStore(db),
    earlyVotes: new EarlyVoteStore(db),
    tracking: open.tracking,
    emit: deps.emit,
    logger: deps.logger,
    webhooks: webhooks.outbox,
  });
  session.start();
  return {
    session,
    webhooks,
    get pollCount() {
      return polls.size;
    },
    close: async () => {
      session.close();
      webhooks.close();
      sandbox?.close();
      // The checkpoint thread's connection closes first: then ours is the last, and closing it
      // folds the WAL into the database file.
      await checkpoints.close();
      db.close();
    },
  };
};
