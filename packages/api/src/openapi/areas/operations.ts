import { HealthReport, SessionHealth } from '@pollmasters/shared';
import { z } from 'zod';
import type { ApiArea, ResponseDoc, RouteDoc } from '../area.js';
import { compatFailure, compatFailures } from '../failures.js';

const serverKeyOnly = compatFailure(
  "A session's own key: health and metrics report every session, so they take the server's key.",
);

const health: Record<string, ResponseDoc> = {
  '200': {
    description: '`ok`: every started session is hosted and its worker answers.',
    schema: HealthReport,
  },
  '503': {
    description:
      '`degraded`: a started session is not ready (its worker starts, restarts or does not answer within 2 s).',
    schema: HealthReport,
  },
  ...compatFailures,
  '403': serverKeyOnly,
};

const healthRoute = (path: string, operationId: string, summary: string): RouteDoc => ({
  method: 'get',
  path,
  operationId,
  summary,
  description:
    "The process's, the workers' and every session's state. The top-level `whatsapp`, `workerState`, `restarts` and `polls` describe the session `default`.",
  responses: health,
});

/** `/healthz` and `/metrics` (../../observability.ts). */
export const operationsArea: ApiArea = {
  tag: 'operations',
  description:
    "For monitoring: the server's health and its Prometheus metrics. They take the server's key.",
  schemas: { HealthReport, SessionHealth },
  routes: [
    healthRoute('/healthz', 'getHealth', 'Health of the server and every session'),
    healthRoute('/health', 'getHealthAlias', 'Health (alias of /healthz)'),
    {
      method: 'get',
      path: '/metrics',
      operationId: 'getMetrics',
      summary: 'Prometheus metrics',
      description:
        'Per session (label `session`): votes accepted and rejected (by reason), early votes, polls sent, send failures, connection and worker state; server-wide: sessions, clients, worker busy time, process metrics.',
      responses: {
        '200': {
          description: 'The Prometheus text exposition format.',
          schema: z.string(),
          contentType: 'text/plain',
        },
        ...compatFailures,
        '403': serverKeyOnly,
      },
    },
  ],
};
