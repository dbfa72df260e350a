import { parentPort, workerData } from 'node:worker_threads';
import { ChannelServer, type WorkerEvent } from '@pollmasters/shared';
import { pino } from 'pino';
import { WorkerConfig } from './config.js';
import { loadMakeSocket } from './loadSocket.js';
import { WhatsAppSession } from './session.js';
import type { MakePollSocket } from './socket.js';
import { useSqliteAuthState } from './store/authState.js';
import { ChatStore } from './store/chatStore.js';
import { Checkpointer } from './store/checkpointer.js';
import { openDatabase } from './store/database.js';
import { EarlyVoteStore } from './store/earlyVotes.js';
import { dataLayout } from './store/layout.js';
import { PollStore } from './store/pollStore.js';

// The worker thread: one WhatsApp session, its database, and the channel to the API.
if (!parentPort) throw new Error('the session worker must run in a worker thread');
const port = parentPort;
const config = WorkerConfig.parse(workerData);
// stderr, as the API's log: stdout is the terminal UI (URL, status, QR).
const logger = pino(
  { level: config.logLevel, base: { sessionId: config.sessionId } },
  pino.destination(2),
);

const makeSocket: MakePollSocket = config.sandbox
  ? (await import('./sandbox/index.js')).createSandbox(config.sandbox).makeWASocket
  : await loadMakeSocket(config.baileysModule);

const db = openDatabase(config.dataDir, dataLayout.databaseName);
const checkpointer = new Checkpointer(db, logger);
const polls = new PollStore(db);
const chats = new ChatStore(db);
const auth = useSqliteAuthState(db);

let server: ChannelServer | null = null;
const emit = (event: WorkerEvent) => server?.emit(event);
const session = new WhatsAppSession({
  makeSocket,
  auth,
  polls,
  chats,
  earlyVotes: new EarlyVoteStore(db),
  tracking: config.tracking,
  emit,
  logger,
});

let closed = false;
const shutdown = async () => {
  if (closed) return;
  closed = true;
  session.close();
  // The checkpoint thread's connection closes first: then ours is the last, and closing it
  // folds the WAL into the database file.
  await checkpointer.close();
  db.close();
};

server = new ChannelServer(port, {
  sessionId: config.sessionId,
  logger,
  handlers: {
    sendPoll: async ({ poll }) => ({ poll: await session.sendPoll(poll) }),
    votePoll: ({ vote }) => session.votePoll(vote),
    listChats: async () => ({ chats: await session.listChats() }),
    logout: async () => {
      await session.logout();
      return {};
    },
    requestPairingCode: async ({ phoneNumber }) => ({
      code: await session.requestPairingCode(phoneNumber),
    }),
    snapshot: () => session.snapshot,
    shutdown: async () => {
      await shutdown();
      // Let the reply go out, then stop listening so the thread can end.
      setImmediate(() => {
        server?.close();
        port.close();
      });
      return {};
    },
  },
});

session.start();
server.ready();
logger.info({ polls: polls.size }, 'session worker ready');
