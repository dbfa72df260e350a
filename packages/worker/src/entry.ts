import { parentPort, workerData } from 'node:worker_threads';
import { errors } from '@pollmasters/shared';
import { ChannelServer } from '@pollmasters/shared/node';
import { pino } from 'pino';
import { WorkerConfig } from './config.js';
import { type HostedSession, openHostedSession } from './hostedSession.js';
import { loadMakeSocket } from './loadSocket.js';
import type { MakePollSocket } from './socket.js';
import { Checkpointer } from './store/checkpointer.js';
import { PgPools } from './store/pg/pgPools.js';
import { threadCpuUs } from './threadCpu.js';
import { useVoteCipher } from './votes/voteCipher.js';

// A worker thread: the sessions the API placed on it (each with its database and WhatsApp
// connection), and the channel to the API, on which every message names its session.
if (!parentPort) throw new Error('the session worker must run in a worker thread');
const port = parentPort;
const config = WorkerConfig.parse(workerData);
// stderr, as the API's log: stdout is the terminal UI (URL, status, QR).
const logger = pino({ level: config.logLevel }, pino.destination(2));
const cipher = useVoteCipher(config.voteCipher);
if (cipher.name === 'native') logger.info({ voteCipher: cipher.name }, 'votes opened natively');
else logger.info({ voteCipher: cipher.name, why: cipher.why }, 'votes opened with node:crypto');

let baileys: Promise<MakePollSocket> | undefined;
const makeSocket = () => {
  baileys ??= loadMakeSocket(config.baileysModule);
  return baileys;
};

// One checkpoint thread for every session's database on this worker.
const checkpointer = new Checkpointer(logger);
// One small PostgreSQL pool for every session on this worker (when the store is there).
const pgPools = new PgPools();
const hosted = new Map<string, Promise<HostedSession>>();
const hostedOf = async (sessionId: string) => {
  const session = hosted.get(sessionId);
  if (!session) throw errors.notFound(`session ${sessionId} on this worker`);
  return session;
};
const sessionOf = async (sessionId: string) => (await hostedOf(sessionId)).session;
const webhooksOf = async (sessionId: string) => (await hostedOf(sessionId)).webhooks.endpoints;
const close = async (sessionId: string) => {
  const session = hosted.get(sessionId);
  if (!session) return;
  await (await session).close();
  hosted.delete(sessionId);
};

let closed = false;
const server: ChannelServer = new ChannelServer(port, {
  logger,
  handlers: {
    openSession: async ({ session }, sessionId) => {
      if (closed) throw errors.workerGone('the worker is shutting down');
      if (hosted.has(sessionId)) throw errors.conflict(`session ${sessionId} is open already`);
      const sessionLogger = logger.child({ sessionId });
      const opening = openHostedSession(session, {
        sessionId,
        emit: (event) => server.emit(sessionId, event),
        logger: sessionLogger,
        makeSocket,
        checkpointer,
        pgPools,
      });
      hosted.set(sessionId, opening);
      try {
        const opened = await opening;
        sessionLogger.info({ polls: opened.pollCount }, 'session open');
      } catch (err) {
        hosted.delete(sessionId);
        throw err;
      }
      server.ready(sessionId);
      return {};
    },
    closeSession: async (_, sessionId) => {
      await close(sessionId);
      return {};
    },
    sendPoll: async ({ poll }, id) => ({ poll: await (await sessionOf(id)).sendPoll(poll) }),
    votePoll: async ({ vote }, id) => (await sessionOf(id)).votePoll(vote),
    listChats: async (_, id) => ({ chats: await (await sessionOf(id)).listChats() }),
    logout: async (_, id) => {
      await (await sessionOf(id)).logout();
      return {};
    },
    requestPairingCode: async ({ phoneNumber }, id) => ({
      code: await (await sessionOf(id)).requestPairingCode(phoneNumber),
    }),
    snapshot: async ({ after }, id) => (await sessionOf(id)).snapshotPage(after),
    webhookCreate: async (c, id) => (await webhooksOf(id)).create(c),
    webhookList: async (_, id) => (await webhooksOf(id)).list(),
    webhookGet: async (c, id) => (await webhooksOf(id)).get(c),
    webhookUpdate: async (c, id) => (await webhooksOf(id)).update(c),
    webhookDelete: async (c, id) => (await webhooksOf(id)).delete(c),
    webhookRotate: async (c, id) => (await webhooksOf(id)).rotate(c),
    webhookDeliveries: async (c, id) => (await webhooksOf(id)).deliveries(c),
    webhookReplay: async (c, id) => (await webhooksOf(id)).replay(c),
    ping: async () => ({ sessions: hosted.size, cpuUs: threadCpuUs() }),
    shutdown: async () => {
      closed = true;
      await Promise.all([...hosted.keys()].map(close));
      await pgPools.end();
      // Let the reply go out, then stop listening so the thread can end.
      setImmediate(() => {
        server.close();
        port.close();
      });
      return {};
    },
  },
});

server.ready();
logger.info('worker ready');
