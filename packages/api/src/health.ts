import { DEFAULT_SESSION, type HealthReport, type SessionHealth } from '@pollmasters/shared';
import type { PoolWorker } from './session/poolWorker.js';
import type { SessionManager } from './session/sessionManager.js';

/** How long `/healthz` waits for a worker thread to answer. */
const PING_TIMEOUT_MS = 2_000;

/**
 * The process's, the workers' and every session's state. Each worker hosting a started session
 * is pinged once (not once per session): a worker whose event loop is stuck makes its sessions,
 * and the server, not ready. `GET /healthz` answers 200 when `ok`, else 503.
 */
export const healthReport = async (
  sessions: Pick<SessionManager, 'list'>,
  clients: HealthReport['clients'],
): Promise<HealthReport> => {
  const all = sessions.list();
  const started = all.filter((s) => s.record.shouldRun || s.service.workerState !== 'stopped');
  const workers = new Set(
    started.map((s) => s.service.hostedOn).filter((w): w is PoolWorker => w !== null),
  );
  const answering = new Set<PoolWorker>();
  await Promise.all(
    [...workers].map(async (w) => {
      if (await w.answers(PING_TIMEOUT_MS)) answering.add(w);
    }),
  );
  const report: SessionHealth[] = all.map(({ record, service }) => {
    const isStarted = started.some((s) => s.record.id === record.id);
    const worker = service.hostedOn;
    return {
      id: record.id,
      whatsapp: service.sessionState.status,
      workerState: service.runState,
      ...(service.runsOn === null ? {} : { node: service.runsOn }),
      started: isStarted,
      // In a cluster a session another node runs is that node's to answer for.
      ready:
        isStarted &&
        (service.workerState === 'stopped'
          ? service.runsOn !== null
          : service.workerState === 'running' && worker !== null && answering.has(worker)),
      restarts: service.workerRestarts,
      polls: service.pollCount,
      votesCounted: service.votesCounted,
      lastEventAt:
        service.lastEventAt === null ? null : new Date(service.lastEventAt).toISOString(),
    };
  });
  const main = report.find((s) => s.id === DEFAULT_SESSION);
  return {
    status: report.every((s) => !s.started || s.ready) ? 'ok' : 'degraded',
    whatsapp: main?.whatsapp ?? 'disconnected',
    workerState: main?.workerState ?? 'stopped',
    restarts: main?.restarts ?? 0,
    uptime: Math.round(process.uptime()),
    polls: main?.polls ?? 0,
    clients,
    sessions: report,
  };
};
