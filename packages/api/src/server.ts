import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import express from 'express';
import type { Logger } from 'pino';
import { Server as SocketIOServer } from 'socket.io';
import { ApiKeyAuth, refuseUpgrade } from './auth.js';
import { mountCompat } from './compat/index.js';
import type { Config } from './config.js';
import type { EdgeContext } from './edge.js';
import { mountExportRoutes } from './export/exportRoutes.js';
import { trackRequests } from './httpDrain.js';
import { mountObservability } from './observability.js';
import { mountRestApi } from './rest/index.js';
import { mountSandboxRoutes } from './sandboxRoutes.js';
import { SessionService } from './session/sessionService.js';
import { isTrpcPath, isTrpcUpgrade, mountTrpc } from './trpc/index.js';
import { type UpgradeTarget, upgradeTarget } from './upgradeTarget.js';

/**
 * Socket.IO's upgrades: it takes every upgrade whose target starts so (engine.io compares the
 * raw prefix), whatever this server decides.
 */
const isSocketIoUpgrade = ({ path }: UpgradeTarget): boolean => path.startsWith('/socket.io/');

export interface RunningServer {
  session: SessionService;
  httpServer: Server;
  /** `http://host:port` as bound. */
  url: string;
  port: number;
  /** Stops accepting, closes every socket and the worker. Idempotent. */
  close(): Promise<void>;
}

/** Starts the worker and one `http.Server` with the compat API, Socket.IO and tRPC. */
export const startServer = async (config: Config, logger: Logger): Promise<RunningServer> => {
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const session = new SessionService({
    logger: logger.child({ component: 'session' }),
    worker: {
      sessionId: 'default',
      dataDir,
      baileysModule: config.baileysModule,
      logLevel: config.logLevel,
      ...(config.sandbox ? { sandbox: { stateDir: dataDir, ...config.sandbox } } : {}),
    },
  });

  const app = express();
  app.disable('x-powered-by');
  const auth = new ApiKeyAuth(config.apiKey);
  // Before every route. tRPC checks the same key in front of its own (./trpc/httpGuard.ts), so
  // that its clients get their refusal in tRPC's error shape.
  const guard = auth.http();
  app.use((req, res, next) => (isTrpcPath(req.path) ? next() : guard(req, res, next)));
  const httpServer = createServer(app);
  const requests = trackRequests(httpServer);
  // Upgrades are routed by path: Socket.IO must not destroy the tRPC WebSocket's upgrades.
  // No `cors` option: browsers get no CORS grant at all, let alone `*`.
  const io = new SocketIOServer(httpServer, { destroyUpgrade: false, serveClient: false });
  io.use(auth.socket());
  // Registered first: an upgrade that is not a path, or is refused, ends here, before Socket.IO
  // sees it. tRPC's are let through: its clients end a call only on an error for it
  // (./trpc/wsGate.ts refuses each).
  httpServer.prependListener('upgrade', (req, socket) => {
    const target = upgradeTarget(req);
    if (!target) {
      socket.destroy();
      return;
    }
    if (isTrpcUpgrade(target)) return;
    if (!auth.upgrade(req, isSocketIoUpgrade(target))) refuseUpgrade(socket);
  });
  const ctx: EdgeContext = { app, httpServer, io, session, config, logger, auth };
  const closeTrpc = mountTrpc(ctx);
  mountCompat(ctx);
  mountRestApi(ctx);
  const closeSandboxRoutes = mountSandboxRoutes(ctx);
  mountExportRoutes(app, session);
  const closeObservability = mountObservability(ctx, closeTrpc.clientCount);
  httpServer.on('upgrade', (req, socket) => {
    // Neither Socket.IO's nor tRPC's: nobody else will answer it.
    if (!socket.writable) return;
    const target = upgradeTarget(req);
    if (!target || (!isSocketIoUpgrade(target) && !isTrpcUpgrade(target))) socket.destroy();
  });

  await session.start();
  await new Promise<void>((resolveListen, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolveListen());
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  logger.info({ host: config.host, port }, 'PollMasters listening');

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      // Stop accepting; then end every client; then let the worker store what is in flight.
      const httpClosed = new Promise<void>((r) => httpServer.close(() => r()));
      await closeTrpc();
      closeSandboxRoutes();
      io.disconnectSockets(true);
      // Resolves once the HTTP server has no connection left: after the drain.
      const ioClosed = new Promise<void>((r) => io.close(() => r()));
      // A request in flight (a poll being sent) may finish; event streams end now.
      await requests.drain(1_000);
      await Promise.all([ioClosed, httpClosed]);
      // The worker's `shutdown` flushes pending votes and closes the database.
      await session.stop(2_500);
      closeObservability();
    })();
    return closing;
  };
  return { session, httpServer, url: `http://${host}:${port}`, port, close };
};
