import type { EdgeContext } from './edge.js';
import { healthReport } from './health.js';
import { ServerMetrics } from './metrics.js';

/**
 * `GET /healthz` (JSON, 200 or 503) and `GET /metrics` (Prometheus text). Behind the
 * server's API key check like every route. Returns the function that detaches the metrics.
 */
export const mountObservability = (
  { app, io, session }: Pick<EdgeContext, 'app' | 'io' | 'session'>,
  trpcClients: () => number,
): (() => void) => {
  const socketIoClients = () => io.of('/').sockets.size;
  const metrics = new ServerMetrics({ session, socketIoClients, trpcClients });
  app.get('/healthz', (_req, res) => {
    const report = healthReport(session, { socketIo: socketIoClients(), trpc: trpcClients() });
    res
      .status(report.status === 'ok' ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json(report);
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
