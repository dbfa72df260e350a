import { DEFAULT_SESSION, errors, Limits } from '@pollmasters/shared';
import express from 'express';
import type { EdgeContext } from '../edge.js';
import { SessionControl } from '../session/sessionControl.js';
import type { SessionManager } from '../session/sessionManager.js';
import { apiErrorHandler, apiNotFound } from './errors.js';
import { pollRoutes, type RestPollSession } from './pollRoutes.js';
import { sessionRoutes } from './sessionRoutes.js';

const missing = (id: string): never => {
  throw errors.notFound(`session ${id}`);
};

/** Where the JSON HTTP API lives. */
export const restPath = '/api';

/**
 * Mounts the JSON HTTP API under `/api`: JSON bodies (the shared size limit), JSON answers,
 * failures as `{error: {code, message}}` with their HTTP status (./errors.ts), unknown routes
 * included. The server's API key check runs before it; its refusal is answered here too.
 */
export const mountRestApi = ({
  app,
  session,
  sessions,
  logger,
}: Pick<EdgeContext, 'app' | 'session' | 'logger'> & { sessions?: SessionManager }): void => {
  const log = logger.child({ component: 'rest' });
  const api = express.Router();
  api.use(express.json({ limit: Limits.bodyMaxBytes }));
  // `?session=<id>` names the session a poll route acts on; `default` without it.
  const sessionOf = (id: string): RestPollSession =>
    sessions ? sessions.require(id).service : id === DEFAULT_SESSION ? session : missing(id);
  api.use(pollRoutes(sessionOf));
  if (sessions) api.use(sessionRoutes(new SessionControl(sessions), log));
  api.use(apiNotFound(log));
  app.use(restPath, api, apiErrorHandler(log));
};
