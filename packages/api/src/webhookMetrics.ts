import { Counter, type Registry } from 'prom-client';
import type { SessionService } from './session/sessionService.js';

/** A gauge with one sample per session, read at each scrape (as ./metrics.ts makes them). */
type PerSession = (
  name: string,
  help: string,
  read: (s: SessionService, set: (value: number) => void) => void,
) => unknown;

const outcomes = ['delivered', 'retried', 'failed'] as const;

/**
 * The webhook series, per session: attempts by outcome (`delivered`; `retried`: failed, tried
 * again later; `failed`: given up), the outbox depth (deliveries pending) and the age of the
 * oldest pending event. Returns what attaches a session's counter (and detaches it).
 */
export const webhookMetrics = (registers: Registry[], perSession: PerSession) => {
  const deliveries = new Counter({
    name: 'pollmasters_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: delivered, retried (failed, tried again later), failed (given up).',
    labelNames: ['session', 'outcome'],
    registers,
  });
  perSession(
    'pollmasters_webhook_outbox_pending',
    'Webhook deliveries waiting to be sent (the outbox depth).',
    (s, set) => set(s.webhookOutbox.pending),
  );
  perSession(
    'pollmasters_webhook_oldest_pending_age_seconds',
    'Age of the oldest webhook event not yet delivered (0 when none waits).',
    (s, set) => {
      const oldest = s.webhookOutbox.oldestPendingAt;
      set(oldest === null ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
    },
  );
  return (service: SessionService): (() => void) => {
    const session = service.sessionId;
    for (const outcome of outcomes) deliveries.inc({ session, outcome }, 0);
    const onStats = (stats: Record<(typeof outcomes)[number], number>) => {
      for (const outcome of outcomes) deliveries.inc({ session, outcome }, stats[outcome]);
    };
    service.on('webhookStats', onStats);
    return () => {
      service.off('webhookStats', onStats);
      for (const outcome of outcomes) deliveries.remove({ session, outcome });
    };
  };
};
