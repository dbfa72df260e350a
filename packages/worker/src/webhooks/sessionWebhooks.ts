import type { WebhookSettings, WorkerEvent } from '@pollmasters/shared/node';
import type { Logger } from 'pino';
import type { WebhookStore } from '../store/webhookStore.js';
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

export const openWebhooks = async (
  store: WebhookStore,
  sessionId: string,
  settings: WebhookSettings,
  emit: (event: WorkerEvent) => void,
  logger: Logger,
): Promise<SessionWebhooks> => {
  const policy = new AddressPolicy(settings.allow, settings.connectTimeoutMs);
  const log = logger.child({ component: 'webhooks' });
  let dispatcher: WebhookDispatcher | undefined;
  const stored = await store.endpoints();
  const outbox = new WebhookOutbox(store, sessionId, () => dispatcher?.wake(), log, stored);
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
