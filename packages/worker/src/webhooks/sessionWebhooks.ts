import type { WebhookSettings, WorkerEvent } from '@pollmasters/shared/node';
import type { Logger } from 'pino';
import type { Db } from '../store/database.js';
import { WebhookStore } from '../store/webhookStore.js';
import { AddressPolicy } from './addressPolicy.js';
import { WebhookDispatcher } from './dispatcher.js';
import { WebhookEndpoints } from './endpoints.js';
import { WebhookOutbox } from './outbox.js';

/** A session's webhooks: the outbox its events are written to, the commands, the sender. */
export interface SessionWebhooks {
  outbox: WebhookOutbox;
  endpoints: WebhookEndpoints;
  /** Stops sending (before the database closes). */
  close(): void;
}

export const openWebhooks = (
  db: Db,
  sessionId: string,
  settings: WebhookSettings,
  emit: (event: WorkerEvent) => void,
  logger: Logger,
): SessionWebhooks => {
  const store = new WebhookStore(db);
  const policy = new AddressPolicy(settings.allow, settings.connectTimeoutMs);
  const log = logger.child({ component: 'webhooks' });
  let dispatcher: WebhookDispatcher | undefined;
  const outbox = new WebhookOutbox(store, sessionId, () => dispatcher?.wake(), log);
  dispatcher = new WebhookDispatcher({
    store,
    outbox,
    policy,
    settings,
    report: (stats) => emit({ type: 'webhookStats', ...stats }),
    logger: log,
  });
  const endpoints = new WebhookEndpoints(sessionId, store, outbox, dispatcher, policy);
  return { outbox, endpoints, close: () => dispatcher.close() };
};
