import { DEFAULT_SESSION, type SessionStatus } from '@pollmasters/shared';
import type { PoolWorker } from './session/poolWorker.js';
import type { SessionManager } from './session/sessionManager.js';
import type { WorkerState } from './session/sessionService.js';

/** One session in `GET /healthz`. */
export interface SessionHealth {
  id: string;
  /** The WhatsApp connection (see README, "Statuses"). */
  whatsapp: SessionStatus;
  workerState: WorkerState;
  /** Started (it should run): only started sessions count for readiness. */
  started: boolean;
  /** Started, hosted, and its worker thread answered just now. */
  ready: boolean;
  restarts: number;
  polls: number;
  /** Votes counted since the server started. */
  votesCounted: number;
  /** When its worker last reported something (ISO 8601), or null. */
  lastEventAt: string | null;
}

/** The body of `GET /healthz`; the top-level session fields describe the session `default`. */
export interface HealthReport {
  /** `ok` when every started session is hosted and its worker answers; else `degraded`. */
  status: 'ok' | 'degraded';
  whatsapp: SessionStatus;
  workerState: WorkerState;
  /** Restarts of the default session's worker after an unexpected exit. */
  restarts: number;
  /** Seconds since the process started. */
  uptime: number;
  polls: number;
  clients: { socketIo: number; trpc: number };
  sessions: SessionHealth[];
}

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
      workerState: service.workerState,
      started: isStarted,
      ready:
        isStarted && service.workerState === 'running' && worker !== null && answering.has(worker),
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
