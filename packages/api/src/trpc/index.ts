import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { DEFAULT_SESSION, errors, Limits } from '@pollmasters/shared';
import type { TRPCError } from '@trpc/server';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { WebSocketServer } from 'ws';
import type { EdgeContext } from '../edge.js';
import { SessionControl } from '../session/sessionControl.js';
import type { SessionManager } from '../session/sessionManager.js';
import type { SessionService } from '../session/sessionService.js';
import { type UpgradeTarget, upgradeTarget } from '../upgradeTarget.js';
import {
  createHttpContext,
  createWsContext,
  type TrpcServices,
  type TrpcSession,
} from './context.js';
import { trpcHttpGuard } from './httpGuard.js';
import { appRouter } from './router.js';
import { openSessionStreams, type SessionStreams } from './sessionStreams.js';
import { WsGate } from './wsGate.js';
import { isClientProtocolError, logClientError, wsKeepAlive, wsMaxPayload } from './wsSettings.js';

export type { AppRouter } from './router.js';

/** The path of the tRPC API, over HTTP and WebSocket. */
export const trpcPath = '/trpc';

/** Requests for tRPC over HTTP: `/trpc` and the procedures under it. */
export const isTrpcPath = (path: string): boolean =>
  path === trpcPath || path.startsWith(`${trpcPath}/`);

/** WebSocket upgrades for tRPC: to `/trpc` itself, any query string aside. */
export const isTrpcUpgrade = ({ path }: UpgradeTarget): boolean =>
  path === trpcPath || path === `${trpcPath}/`;

/**
 * Mounts tRPC on the server: batched HTTP under `/trpc` and a `ws` server (no server of its
 * own) for the upgrades to `/trpc`, routed by path so that Socket.IO keeps its own. The API
 * key and the body limit are checked in front of both (./httpGuard.ts, ./wsGate.ts). Starts
 * logging poll events at once, so that the worker's first snapshot is in the log.
 * Returns the idempotent close (resolves once every WebSocket closed), which also tells the
 * number of open WebSocket clients.
 * @see ../../../../test/trpc-upgrade-routing.test.ts
 */
export const mountTrpc = (
  ctx: Pick<EdgeContext, 'app' | 'httpServer' | 'config' | 'logger' | 'auth'> & {
    session: TrpcSession;
    sessions?: SessionManager;
  },
): (() => Promise<void>) & { clientCount(): number } => {
  const { app, httpServer, session, config } = ctx;
  const logger = ctx.logger.child({ component: 'trpc' });
  // The session `default`'s streams, and every other session's, kept while it exists.
  const main = openSessionStreams(session, config.sendDelayMs);
  const { log, sessionFeed, sender } = main;
  const services: TrpcServices = { session, config, logger, log, sessionFeed, sender };
  const others = new Map<string, SessionStreams>();
  const manager = ctx.sessions;
  const onCreated = (created: SessionService) => {
    if (created.sessionId === DEFAULT_SESSION) return;
    others.set(created.sessionId, openSessionStreams(created, config.sendDelayMs));
  };
  const onDeleted = (id: string) => {
    others.get(id)?.close();
    others.delete(id);
  };
  if (manager) {
    for (const { service } of manager.list()) onCreated(service);
    manager.on('created', onCreated);
    manager.on('deleted', onDeleted);
    services.sessions = {
      control: new SessionControl(manager),
      manager,
      streamsOf: (id) => {
        const { record } = manager.require(id);
        if (record.id === DEFAULT_SESSION) return main;
        const streams = others.get(record.id);
        if (!streams) throw errors.notFound(`session ${id}`);
        return streams;
      },
    };
  }
  const { auth } = ctx;

  const onError = ({ error, path }: { error: TRPCError; path: string | undefined }) => {
    if (isClientProtocolError(error.cause)) {
      logClientError(logger, error.cause);
    } else if (error.code === 'INTERNAL_SERVER_ERROR') {
      logger.error({ err: error.cause ?? error, path }, 'tRPC call failed');
    } else {
      logger.debug({ code: error.code, path, message: error.message }, 'tRPC call rejected');
    }
  };

  // No express.json() in front: the adapter reads the body itself, up to the shared limit
  // (a body of unknown length is cut there; one declared longer is refused by the guard).
  app.use(
    trpcPath,
    trpcHttpGuard(auth),
    createExpressMiddleware({
      router: appRouter,
      createContext: createHttpContext(services),
      onError,
      maxBodySize: Limits.bodyMaxBytes,
      // The guard refuses a longer batch first, with a clearer message; this is the backstop.
      maxBatchSize: Limits.batchMaxCalls,
    }),
  );

  const gate = new WsGate(auth, logger);
  const wss = new WebSocketServer({ noServer: true, maxPayload: wsMaxPayload });
  const handler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: createWsContext(services, gate.principalOf),
    onError,
    keepAlive: wsKeepAlive,
    // A message of more calls gets tRPC's BAD_REQUEST for each of them.
    maxBatchSize: Limits.batchMaxCalls,
  });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const target = upgradeTarget(req);
    if (!target || !isTrpcUpgrade(target) || !socket.writable) return;
    // tRPC serves a connection from its `connection` event, once the gate admits it.
    wss.handleUpgrade(req, socket, head, (ws) =>
      gate.take(ws, req, target, () => wss.emit('connection', ws, req)),
    );
  };
  httpServer.on('upgrade', onUpgrade);

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      // First: a send to many chats stops after the chat it is at and is answered.
      main.close();
      manager?.off('created', onCreated);
      manager?.off('deleted', onDeleted);
      for (const streams of others.values()) streams.close();
      httpServer.off('upgrade', onUpgrade);
      // Clients reconnect (and resume by lastEventId) once a server is back.
      handler.broadcastReconnectNotification();
      const closed = new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const client of wss.clients) client.close(1001, 'server shutting down');
      // A client that does not answer the close frame keeps this waiting until the server
      // destroys its socket (../server.ts).
      await closed;
    })();
    return closing;
  };
  /** Open tRPC WebSocket connections of callers admitted to tRPC, for the metrics and `/healthz`. */
  return Object.assign(close, { clientCount: () => gate.admitted });
};
