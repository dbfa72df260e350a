import { ErrorCode, PollMastersError } from '@pollmasters/shared';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { EdgeContext } from '../edge.js';
import type { CompatContext, CompatOptions } from './context.js';
import { compatRouter, sendFailure } from './routes.js';
import { mountCompatSocket } from './socket.js';

export type { CompatContext, CompatOptions, CompatSession } from './context.js';
export { compatParser } from './jsonText.js';

/**
 * Mounts the compat API of the existing Python GUI (`docs/contract/backend-api-endpoints.txt`):
 * its HTTP routes on `ctx.app` and its events on `ctx.io`'s default namespace.
 *
 * Every answer is JSON, unknown routes and errors included: the JSON 404 and error handler
 * are added when the server starts listening, after every other edge has mounted its routes.
 */
export const mountCompat = (
  ctx: EdgeContext | CompatContext,
  options: CompatOptions = {},
): void => {
  const { app, httpServer, io, session } = ctx;
  const logger = ctx.logger.child({ component: 'compat' });

  // The API key is checked by the server before any of this (../auth.ts).
  app.use(compatRouter(session, logger));
  const detach = mountCompatSocket(io, session, {
    coalesceMs: options.coalesceMs ?? 50,
    maxBufferedBytes: options.maxBufferedBytes,
    pushBytesPerSec: options.pushBytesPerSec,
    onSlowClient: (id, bytes) =>
      logger.warn({ socketId: id, bytes }, 'dropped a Socket.IO client that stopped reading'),
  });
  httpServer.once('close', detach);

  const notFound: RequestHandler = (req, res) => {
    sendFailure(
      res,
      logger,
      new PollMastersError(ErrorCode.NOT_FOUND, `Not found: ${req.method} ${req.path}`),
    );
  };
  const onError: ErrorRequestHandler = (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    sendFailure(res, logger, err);
  };
  const mountFallback = () => app.use(notFound, onError);
  if (httpServer.listening) mountFallback();
  else httpServer.once('listening', mountFallback);
};
