import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import express from 'express';
import type { Logger } from 'pino';
import { Server as SocketIOServer } from 'socket.io';
import { mountCompat } from './compat/index.js';
import type { Config } from './config.js';
import { mountSandboxRoutes } from './sandboxRoutes.js';
import { SessionService } from './session/sessionService.js';
import { mountTrpc } from './trpc/index.js';

/** What an edge (compat, tRPC, ...) is given to mount itself on the one server. */
export interface EdgeContext {
  app: express.Express;
  httpServer: Server;
  io: SocketIOServer;
  session: SessionService;
  config: Config;
  logger: Logger;
}

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
  const httpServer = createServer(app);
  // Upgrades are routed by path: Socket.IO must not destroy the tRPC WebSocket's upgrades.
  const io = new SocketIOServer(httpServer, { destroyUpgrade: false, serveClient: false });
  const ctx: EdgeContext = { app, httpServer, io, session, config, logger };
  const closeTrpc = mountTrpc(ctx);
  mountCompat(ctx);
  const closeSandboxRoutes = mountSandboxRoutes(ctx);
  httpServer.on('upgrade', (req, socket) => {
    const path = req.url ?? '';
    if (!path.startsWith('/socket.io/') && !path.startsWith('/trpc')) socket.destroy();
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
      const httpClosed = new Promise<void>((r) => httpServer.close(() => r()));
      await closeTrpc();
      closeSandboxRoutes();
      io.disconnectSockets(true);
      await new Promise<void>((r) => io.close(() => r()));
      httpServer.closeAllConnections();
      await session.stop();
      await httpClosed;
    })();
    return closing;
  };
  return { session, httpServer, url: `http://${host}:${port}`, port, close };
};
