import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, Server as NetServer } from 'node:net';
import { resolve } from 'node:path';
import { Limits } from '@pollmasters/shared';
import express from 'express';
import type { Logger } from 'pino';
import { Server as SocketIOServer } from 'socket.io';
import { ApiKeyAuth, refuseUpgrade } from './auth.js';
import { type ClusterSessions, joinServerToCluster } from './cluster/clusterSessions.js';
import { compatParser, mountCompat } from './compat/index.js';
import type { Config } from './config.js';
import { delay } from './delay.js';
import type { EdgeContext } from './edge.js';
import { mountExportRoutes } from './export/exportRoutes.js';
import { trackRequests } from './httpDrain.js';
import { mountObservability } from './observability.js';
import { isReferencePath, mountOpenApi } from './openapi/serve.js';
import { isRestPath, mountRestApi } from './rest/index.js';
import { mountSandboxRoutes } from './sandboxRoutes.js';
import { openRegistry } from './session/openRegistry.js';
import { SessionManager } from './session/sessionManager.js';
import type { SessionService } from './session/sessionService.js';
import { WorkerPool } from './session/workerPool.js';
import { trackSocketIoConnections } from './socketIoConnections.js';
import { isTrpcPath, isTrpcUpgrade, mountTrpc } from './trpc/index.js';
import { type UpgradeTarget, upgradeTarget } from './upgradeTarget.js';
import { defaultWebDir, mountWebApp } from './web/webApp.js';

/**
 * Socket.IO's upgrades: it takes every upgrade whose target starts so (engine.io compares the
 * raw prefix), whatever this server decides.
 */
const isSocketIoUpgrade = ({ path }: UpgradeTarget): boolean => path.startsWith('/socket.io/');

export interface RunningServer {
  /** The Express app behind every HTTP route (its routes can be listed from its router). */
  app: express.Express;
  /** The session `default`. */
  session: SessionService;
  sessions: SessionManager;
  httpServer: Server;
  /** `http://host:port` as bound. */
  url: string;
  port: number;
  /**
   * Stops accepting, closes every socket and the worker, within `budgetMs` (default 4 s): the
   * requests in flight get all of it but the worker's share. Idempotent.
   */
  close(budgetMs?: number): Promise<void>;
}

/** The time a stop leaves the worker to store what it holds, close the database and exit. */
const workerStopShareMs = 1_500;
const defaultCloseBudgetMs = 4_000;
/** What a cluster node's handover leaves the rest of its stop (clients' closes). */
const clusterCloseReserveMs = 500;

/**
 * Stops accepting connections; resolves once none is left. Not `http.Server#close`, which
 * also closes the idle kept-alive connections at once, and with them a request on its way
 * there (a Socket.IO long-poll that is to fetch its disconnect): they close after the drain.
 */
const stopAccepting = (server: Server): Promise<void> =>
  new Promise((resolve) => NetServer.prototype.close.call(server, () => resolve()));

/** Starts the worker and one `http.Server` with the compat API, Socket.IO and tRPC. */
export const startServer = async (config: Config, logger: Logger): Promise<RunningServer> => {
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // First: a database that cannot be reached (or is newer) stops the start before any worker.
  const registry = await openRegistry(dataDir, config.databaseUrl, logger);
  const pool = new WorkerPool({
    worker: {
      baileysModule: config.baileysModule,
      logLevel: config.logLevel,
      voteCipher: config.voteCipher,
    },
    logger: logger.child({ component: 'worker' }),
    ...(config.workers ? { size: config.workers } : {}),
  });
  const sessions = new SessionManager({
    config,
    dataDir,
    registry,
    pool,
    logger,
  });
  // In a cluster the lease loop starts the sessions this node holds (docs/cluster.md).
  let cluster: ClusterSessions | null = null;
  if (config.redisUrl) {
    try {
      cluster = await joinServerToCluster(
        { ...config, redisUrl: config.redisUrl },
        sessions,
        logger,
      );
    } catch (err) {
      await sessions.close(1_000).catch(() => {});
      throw err;
    }
  }
  // The compat API and the single-account clients serve this one.
  const session = sessions.defaultSession;

  const app = express();
  app.disable('x-powered-by');
  const auth = new ApiKeyAuth(config.apiKey, sessions.scopedKeys.sessionOf);
  // Before every route. tRPC and `/api` check the same key in front of their own
  // (./trpc/httpGuard.ts, ./rest/index.ts), so that their clients get their refusal in their
  // error shape. The OpenAPI document and its page are public: they tell nothing of this server.
  const guard = auth.http();
  // The dashboard's page and assets hold no data: they load without the key, and ask for it.
  mountWebApp(app, config.webDir ?? defaultWebDir, logger);
  app.use((req, res, next) =>
    isTrpcPath(req.path) || isRestPath(req.path) || isReferencePath(req.path)
      ? next()
      : guard(req, res, next),
  );
  const httpServer = createServer(app);
  const requests = trackRequests(httpServer);
  // Upgrades are routed by path: Socket.IO must not destroy the tRPC WebSocket's upgrades.
  // No `cors` option: browsers get no CORS grant at all, let alone `*`. A message (or a poll's
  // POST) over the shared body limit closes that client's connection, as tRPC does.
  // The compat parser writes a GUI push's pre-built JSON as it is (./compat/jsonText.ts).
  const io = new SocketIOServer(httpServer, {
    parser: compatParser,
    destroyUpgrade: false,
    serveClient: false,
    maxHttpBufferSize: Limits.bodyMaxBytes,
  });
  io.use(auth.socket());
  const socketIoConnections = trackSocketIoConnections(io);
  // Set when the stop begins: an upgrade that comes after it (on a connection that was open)
  // would find tRPC's listener gone and nobody to answer it.
  let stopping = false;
  // Registered first: an upgrade that is not a path, is refused, or comes during the stop ends
  // here, before Socket.IO sees it. tRPC's are let through: its clients end a call only on an
  // error for it (./trpc/wsGate.ts refuses each).
  httpServer.prependListener('upgrade', (req, socket) => {
    const target = upgradeTarget(req);
    if (!target || stopping) {
      socket.destroy();
      return;
    }
    if (isTrpcUpgrade(target)) return;
    if (!auth.upgrade(req, isSocketIoUpgrade(target))) refuseUpgrade(socket);
  });
  const ctx: EdgeContext = { app, httpServer, io, session, sessions, config, logger, auth };
  const closeTrpc = mountTrpc(ctx);
  mountCompat(ctx);
  mountRestApi(ctx);
  const closeSandboxRoutes = mountSandboxRoutes(ctx);
  mountExportRoutes(app, session);
  mountOpenApi(app);
  const closeObservability = mountObservability(ctx, closeTrpc.clientCount);
  httpServer.on('upgrade', (req, socket) => {
    // Neither Socket.IO's nor tRPC's: nobody else will answer it.
    if (!socket.writable) return;
    const target = upgradeTarget(req);
    if (!target || (!isSocketIoUpgrade(target) && !isTrpcUpgrade(target))) socket.destroy();
  });

  await sessions.startAll();
  await new Promise<void>((resolveListen, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolveListen());
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  logger.info({ host: config.host, port }, 'PollMasters listening');

  let closing: Promise<void> | null = null;
  const close = (budgetMs = defaultCloseBudgetMs) => {
    closing ??= (async () => {
      const deadline = Date.now() + budgetMs;
      const left = () => Math.max(0, deadline - Date.now());
      // First the sessions go to the other nodes, while this one still serves its clients (their
      // commands go to the new owners); what is not handed over in time expires with its lease.
      if (cluster) {
        await Promise.race([
          cluster.close().catch((err: unknown) => logger.warn({ err }, 'handover failed')),
          delay(Math.max(0, left() - workerStopShareMs - clusterCloseReserveMs)),
        ]);
      }
      // The requests in flight (a poll being sent to WhatsApp, which may take seconds) and the
      // clients' closes get all the time but the worker's share.
      const shareMs = Math.max(0, left() - workerStopShareMs);
      const shareOver = delay(shareMs);
      stopping = true;
      const socketIoFlushed = socketIoConnections();
      const trpcClosed = closeTrpc();
      closeSandboxRoutes();
      io.disconnectSockets(true);
      // New connections are refused only once every Socket.IO client has its disconnect (or
      // the share is over): a client over long-polling fetches it with its next poll, and that
      // poll may come on a new connection (engine.io-client's XHR in Node opens one for each
      // request), which a closed listener would refuse: the client saw a transport error
      // instead of the server's disconnect. Requests meanwhile are answered on connections
      // that close after them (the drain below).
      const httpClosed = Promise.race([socketIoFlushed, shareOver]).then(() =>
        stopAccepting(httpServer),
      );
      // Event streams end now; the other requests are answered, on connections that close.
      await requests.drain(shareMs);
      // Every session's worker `shutdown` stores the votes it holds and closes the database; it runs
      // whatever the clients do, while they close.
      const workerStopped = sessions.close(left());
      try {
        await Promise.race([Promise.all([trpcClosed, socketIoFlushed]), shareOver]);
      } finally {
        // Kept-alive connections, requests unanswered past the share, and clients that ignored
        // their close (a WebSocket that does not answer the close frame, a refused upgrade
        // whose client keeps its side open) go now.
        requests.destroyRemaining();
        io.close();
        await workerStopped;
        await Promise.race([httpClosed, delay(left())]);
        closeObservability();
      }
    })();
    return closing;
  };
  return { app, session, sessions, httpServer, url: `http://${host}:${port}`, port, close };
};
