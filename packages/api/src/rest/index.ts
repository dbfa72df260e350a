import { Limits } from '@pollmasters/shared';
import express from 'express';
import type { EdgeContext } from '../edge.js';
import { apiErrorHandler, apiNotFound } from './errors.js';
import { pollRoutes } from './pollRoutes.js';

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
  logger,
}: Pick<EdgeContext, 'app' | 'session' | 'logger'>): void => {
  const log = logger.child({ component: 'rest' });
  const api = express.Router();
  api.use(express.json({ limit: Limits.bodyMaxBytes }));
  api.use(pollRoutes(session));
  api.use(apiNotFound(log));
  app.use(restPath, api, apiErrorHandler(log));
};
