import { z } from 'zod';
import { SessionStatus } from './session.js';
import { SessionRunState } from './sessions.js';

/** One session in `GET /healthz`. */
export const SessionHealth = z.object({
  id: z.string(),
  /** The WhatsApp connection (see README, "Statuses"). */
  whatsapp: SessionStatus,
  /** Whether it runs on a worker thread now (in a cluster: on the node `node`). */
  workerState: SessionRunState,
  /** In a cluster: the node that runs it (its lease holder); absent when none does. */
  node: z.string().optional(),
  /** Started (it should run): only started sessions count for readiness. */
  started: z.boolean(),
  /** Started, hosted, and its worker thread answered just now (or another node runs it). */
  ready: z.boolean(),
  restarts: z.number().int().nonnegative(),
  polls: z.number().int().nonnegative(),
  /** Votes counted since the server started. */
  votesCounted: z.number().int().nonnegative(),
  /** When its worker last reported something (ISO 8601), or null. */
  lastEventAt: z.iso.datetime().nullable(),
});
export type SessionHealth = z.infer<typeof SessionHealth>;

/** The body of `GET /healthz`; the top-level session fields describe the session `default`. */
export const HealthReport = z.object({
  /** `ok` (HTTP 200) when every started session is hosted and its worker answers; else `degraded` (503). */
  status: z.enum(['ok', 'degraded']),
  whatsapp: SessionStatus,
  workerState: SessionRunState,
  /** Restarts of the default session's worker after an unexpected exit. */
  restarts: z.number().int().nonnegative(),
  /** Seconds since the process started. */
  uptime: z.number().int().nonnegative(),
  polls: z.number().int().nonnegative(),
  clients: z.object({
    socketIo: z.number().int().nonnegative(),
    trpc: z.number().int().nonnegative(),
  }),
  sessions: z.array(SessionHealth),
});
export type HealthReport = z.infer<typeof HealthReport>;
