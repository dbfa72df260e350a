import { ErrorCode, errors, PollMastersError, type SessionList } from '@pollmasters/shared';
import { Router } from 'express';
import { principalOfRequest } from '../access.js';
import type { SessionControl } from '../session/sessionControl.js';

/** The one flag of `DELETE /sessions/:id`, as a query string carries it. */
const purgeOf = (value: unknown): boolean => {
  if (value === undefined || value === 'false') return false;
  if (value === 'true' || value === '') return true;
  throw new PollMastersError(ErrorCode.BAD_INPUT, 'purge: true or false');
};

/**
 * The sessions (accounts) over JSON HTTP, as tRPC's `sessions.*`:
 * `GET /sessions`, `POST /sessions` `{id, settings?, start?}`, `GET /sessions/:id`,
 * `POST /sessions/:id/start|stop|logout`, `POST /sessions/:id/login` `{phoneNumber?}`,
 * `POST /sessions/:id/key` (a new own key), `DELETE /sessions/:id?purge=true`.
 * Over `POLLMASTERS_MAX_SESSIONS`, a create is 429 (`QUOTA_EXCEEDED`, as every quota).
 */
export const sessionRoutes = (control: SessionControl): Router => {
  const router = Router();
  router.get('/sessions', (req, res) => {
    const body: SessionList = { sessions: control.list(principalOfRequest(req)) };
    res.json(body);
  });
  router.post('/sessions', async (req, res) => {
    res.status(201).json(await control.create(principalOfRequest(req), req.body ?? {}));
  });
  router.get('/sessions/:id', (req, res) => {
    res.json(control.get(principalOfRequest(req), req.params.id));
  });
  router.post('/sessions/:id/start', async (req, res) => {
    res.json(await control.start(principalOfRequest(req), req.params.id));
  });
  router.post('/sessions/:id/stop', async (req, res) => {
    res.json(await control.stop(principalOfRequest(req), req.params.id));
  });
  router.post('/sessions/:id/logout', async (req, res) => {
    res.json(await control.logout(principalOfRequest(req), req.params.id));
  });
  router.post('/sessions/:id/login', async (req, res) => {
    // Spread into the input below, a JSON array would become an object of its indexes.
    if (Array.isArray(req.body)) throw errors.badInput('the body must be a JSON object');
    res.json(
      await control.login(principalOfRequest(req), { ...(req.body ?? {}), id: req.params.id }),
    );
  });
  router.post('/sessions/:id/key', async (req, res) => {
    res.json(await control.rotateKey(principalOfRequest(req), req.params.id));
  });
  router.delete('/sessions/:id', async (req, res) => {
    const input = { id: req.params.id, purge: purgeOf(req.query.purge) };
    res.json(await control.delete(principalOfRequest(req), input));
  });
  return router;
};
