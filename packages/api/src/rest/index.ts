import { DEFAULT_SESSION, errors, Limits, type Principal } from '@pollmasters/shared';
import express from 'express';
import { assertMaySee, rememberPrincipal } from '../access.js';
import { unauthorized } from '../auth.js';
import type { EdgeContext } from '../edge.js';
import { SessionControl } from '../session/sessionControl.js';
import type { SessionManager } from '../session/sessionManager.js';
import { apiErrorHandler, apiNotFound } from './errors.js';
import { pollRoutes, type RestPollSession } from './pollRoutes.js';
import { sessionRoutes } from './sessionRoutes.js';
import { type RestWebhookSession, webhookRoutes } from './webhookRoutes.js';

const missing = (id: string): never => {
  throw errors.notFound(`session ${id}`);
};

/** Where the JSON HTTP API lives. */
export const restPath = '/api';

/** Requests for the JSON HTTP API: `/api` and the routes under it. */
export const isRestPath = (path: string): boolean =>
  path === restPath || path.startsWith(`${restPath}/`);

/**
 * Mounts the JSON HTTP API under `/api`: the API key (../auth.ts), JSON bodies (the shared
 * size limit), JSON answers, failures as `{error: {code, message}}` with their HTTP status
 * (./errors.ts), the key's refusal and unknown routes included.
 */
export const mountRestApi = ({
  app,
  session,
  sessions,
  logger,
  auth,
}: Pick<EdgeContext, 'app' | 'session' | 'logger' | 'auth'> & {
  sessions?: SessionManager;
}): void => {
  const log = logger.child({ component: 'rest' });
  const api = express.Router();
  api.use((req, _res, next) => {
    const principal = auth.principalOfRequest(req);
    if (principal) rememberPrincipal(req, principal);
    next(principal ? undefined : unauthorized());
  });
  api.use(express.json({ limit: Limits.bodyMaxBytes }));
  // `?session=<id>` names the session a poll route acts on; `default` without it.
  const sessionOf = (caller: Principal, id: string): RestPollSession & RestWebhookSession => {
    assertMaySee(caller, id);
    return sessions ? sessions.require(id).service : id === DEFAULT_SESSION ? session : missing(id);
  };
  api.use(pollRoutes(sessionOf));
  api.use(webhookRoutes(sessionOf));
  if (sessions) api.use(sessionRoutes(new SessionControl(sessions)));
  api.use(apiNotFound(log));
  app.use(restPath, api, apiErrorHandler(log));
};
