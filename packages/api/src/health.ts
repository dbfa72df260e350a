import type { SessionStatus } from '@pollmasters/shared';
import type { SessionService, WorkerState } from './session/sessionService.js';

/** The body of `GET /healthz`. */
export interface HealthReport {
  /** `ok` while the worker runs; `degraded` while it starts, restarts or is stopped. */
  status: 'ok' | 'degraded';
  /** The WhatsApp connection (see README, "Statuses"). */
  whatsapp: SessionStatus;
  workerState: WorkerState;
  /** Restarts of the worker after an unexpected exit, since the process started. */
  restarts: number;
  /** Seconds since the process started. */
  uptime: number;
  polls: number;
  clients: { socketIo: number; trpc: number };
}

/** The process's and the worker's state; `GET /healthz` answers 200 when `ok`, else 503. */
export const healthReport = (
  session: Pick<SessionService, 'sessionState' | 'workerState' | 'workerRestarts' | 'pollCount'>,
  clients: HealthReport['clients'],
): HealthReport => ({
  status: session.workerState === 'running' ? 'ok' : 'degraded',
  whatsapp: session.sessionState.status,
  workerState: session.workerState,
  restarts: session.workerRestarts,
  uptime: Math.round(process.uptime()),
  polls: session.pollCount,
  clients,
});
