import type { RequestHandler } from 'express';
import type { EdgeContext } from './edge.js';
import { healthReport } from './health.js';
import { ServerMetrics } from './metrics.js';

/**
 * `GET /healthz` (alias `/health`; JSON, 200 or 503) and `GET /metrics` (Prometheus text), for
 * every session. Behind the server's API key check like every route; as they report on every
 * session, a key scoped to one session (even `default`'s) is refused with 403. Returns the
 * function that detaches the metrics.
 */
export const mountObservability = (
  { app, io, sessions, auth }: Pick<EdgeContext, 'app' | 'io' | 'sessions' | 'auth'>,
  trpcClients: () => number,
): (() => void) => {
  const socketIoClients = () => io.of('/').sockets.size;
  const metrics = new ServerMetrics({ sessions, socketIoClients, trpcClients });
  const serverKeyOnly: RequestHandler = (req, res, next) => {
    if (auth.principalOfRequest(req)?.kind !== 'session') return next();
    res.status(403).json({
      success: false,
      message: 'health and metrics report every session: they take the server key',
    });
  };
  app.get(['/healthz', '/health'], serverKeyOnly, async (_req, res, next) => {
    try {
      const report = await healthReport(sessions, {
        socketIo: socketIoClients(),
        trpc: trpcClients(),
      });
      res
        .status(report.status === 'ok' ? 200 : 503)
        .set('Cache-Control', 'no-store')
        .json(report);
    } catch (err) {
      next(err);
    }
  });
  app.get('/metrics', serverKeyOnly, async (_req, res, next) => {
    try {
      const { contentType, body } = await metrics.text();
      res.status(200).type(contentType).send(body);
    } catch (err) {
      next(err);
    }
  });
  return () => metrics.close();
};
