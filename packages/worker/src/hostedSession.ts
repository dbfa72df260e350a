import type { SessionOpen, WorkerEvent } from '@pollmasters/shared/node';
import type { Logger } from 'pino';
import { WhatsAppSession } from './session.js';
import type { MakePollSocket } from './socket.js';
import type { Checkpointer } from './store/checkpointer.js';
import type { PgPools } from './store/pg/pgPools.js';
import { openPgStore, openSqliteStore, type SessionStore } from './store/sessionStore.js';
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
  /** The worker's PostgreSQL pools, shared by every session it hosts. */
  pgPools: PgPools;
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
  let session: WhatsAppSession | undefined;
  let webhooks: SessionWebhooks | undefined;
  let store: SessionStore;
  try {
    store = open.databaseUrl
      ? await openPgStore(deps.pgPools, open.databaseUrl, {
          sessionId: deps.sessionId,
          fence: open.fence,
          logger: deps.logger,
          // Another node owns the session now: stop before anything else is tried. Said once
          // here (a warning: the cluster did its job), and not again by each write it refuses.
          // What was refused is not stored here; WhatsApp delivers again only the messages this
          // node did not acknowledge (Baileys acknowledges on arrival, before they are stored):
          // docs/postgres.md, "Fencing".
          onFenced: () => {
            deps.logger.warn(
              { fence: open.fence },
              'lease lost: another node owns the session now; its writes here are refused and it stops',
            );
            deps.emit({ type: 'fenced' });
            // Its webhooks too: the new owner delivers them now.
            webhooks?.close();
            void session?.close('lease lost');
          },
        })
      : openSqliteStore(open.dataDir, deps.checkpointer);
  } catch (err) {
    sandbox?.close();
    throw err;
  }
  const { polls } = store;
  try {
    webhooks = await openWebhooks(
      store.webhooks,
      deps.sessionId,
      open.webhooks,
      deps.emit,
      deps.logger,
    );
  } catch (err) {
    sandbox?.close();
    await store.close();
    throw err;
  }
  const hooks = webhooks;
  session = new WhatsAppSession({
    makeSocket,
    auth: store.auth,
    polls,
    chats: store.chats,
    earlyVotes: store.earlyVotes,
    tracking: open.tracking,
    emit: deps.emit,
    logger: deps.logger,
    webhooks: hooks.outbox,
  });
  session.start();
  const started = session;
  return {
    session: started,
    webhooks: hooks,
    get pollCount() {
      return polls.size;
    },
    close: async () => {
      await started.close();
      hooks.close();
      sandbox?.close();
      await store.close();
    },
  };
};
