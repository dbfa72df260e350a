import type { Server } from 'node:http';
import type express from 'express';
import type { Logger } from 'pino';
import type { Server as SocketIOServer } from 'socket.io';
import type { ApiKeyAuth } from './auth.js';
import type { Config } from './config.js';
import type { SessionManager } from './session/sessionManager.js';
import type { SessionService } from './session/sessionService.js';

/** What an edge (compat, tRPC, ...) is given to mount itself on the one server. */
export interface EdgeContext {
  app: express.Express;
  httpServer: Server;
  io: SocketIOServer;
  /** The session `default`: the compat API's, and every procedure's when none is named. */
  session: SessionService;
  sessions: SessionManager;
  config: Config;
  logger: Logger;
  /** The one API key check; the server applies it before any edge sees a request. */
  auth: ApiKeyAuth;
}
