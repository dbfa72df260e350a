import type { EdgeContext } from './edge.js';
import { healthReport } from './health.js';
import { ServerMetrics } from './metrics.js';

/**
 * `GET /healthz` (alias `/health`; JSON, 200 or 503) and `GET /metrics` (Prometheus text), for
 * every session. Behind the server's API key check like every route. Returns the function that
 * detaches the metrics.
 */
export const mountObservability = (
  { app, io, sessions }: Pick<EdgeContext, 'app' | 'io' | 'sessions'>,
  trpcClients: () => number,
): (() => void) => {
  const socketIoClients = () => io.of('/').sockets.size;
  const metrics = new ServerMetrics({ sessions, socketIoClients, trpcClients });
  app.get(['/healthz', '/health'], async (_req, res, next) => {
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
  app.get('/metrics', async (_req, res, next) => {
    try {
      const { contentType, body } = await metrics.text();
      res.status(200).type(contentType).send(body);
    } catch (err) {
      next(err);
    }
  });
  return () => metrics.close();
};
