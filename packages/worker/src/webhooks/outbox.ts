import { randomBytes } from 'node:crypto';
import type { Logger, WebhookEventOf, WebhookEventType } from '@pollmasters/shared';
import type { StoredEndpoint, WebhookStore } from '../store/webhookStore.js';

/**
 * Standard Webhooks message ids (the `webhook-id` of every attempt of one event): a random
 * prefix per outbox (each time the session opens) and a counter, unique without asking the
 * random source for every vote.
 */
const eventIds = () => {
  const prefix = `msg_${randomBytes(12).toString('base64url')}`;
  let n = 0;
  return () => `${prefix}${(n++).toString(36)}`;
};

/**
 * The session's webhook outbox: knows which endpoints want which events (kept in memory, so
 * that the vote path asks a Map, not the database) and writes an event row with one delivery
 * row per such endpoint. `write` runs inside the caller's transaction (the vote's or poll's it
 * reports); `writeNow` in its own. Nothing is written for an event no endpoint wants.
 */
export class WebhookOutbox {
  private readonly endpoints = new Map<string, StoredEndpoint>();
  private subscribers = new Map<WebhookEventType, string[]>();
  private readonly newEventId = eventIds();

  constructor(
    private readonly store: WebhookStore,
    private readonly sessionId: string,
    /** Called after an event was written (the dispatcher looks for work once it is committed). */
    private readonly written: () => void,
    private readonly logger: Logger,
    endpoints: readonly StoredEndpoint[],
  ) {
    for (const e of endpoints) this.endpoints.set(e.id, e);
    this.index();
  }

  /** Every endpoint (with its secret), oldest first. */
  list(): StoredEndpoint[] {
    return [...this.endpoints.values()];
  }

  get(id: string): StoredEndpoint | undefined {
    return this.endpoints.get(id);
  }

  /** Keeps the in-memory view in step after the store changed an endpoint. */
  put(endpoint: StoredEndpoint): void {
    this.endpoints.set(endpoint.id, endpoint);
    this.index();
  }

  remove(id: string): void {
    this.endpoints.delete(id);
    this.index();
  }

  /** Whether an endpoint subscribes to this event type (paused ones too: their events wait). */
  wants(type: WebhookEventType): boolean {
    return this.subscribers.has(type);
  }

  /** Writes an event for its subscribers, in the transaction the caller runs. */
  write<T extends WebhookEventType>(type: T, data: WebhookEventOf<T>['data']) {
    const endpointIds = this.subscribers.get(type);
    if (!endpointIds) return;
    const at = Date.now();
    const event = { type, timestamp: new Date(at).toISOString(), sessionId: this.sessionId, data };
    this.store.addEvent(this.newEventId(), type, at, JSON.stringify(event), endpointIds);
    this.written();
  }

  /**
   * Writes an event in a transaction of its own (a rejection, a status change). A failed write
   * is logged, not thrown: what reported it (a vote batch, a status change) goes on.
   */
  writeNow<T extends WebhookEventType>(type: T, data: WebhookEventOf<T>['data']) {
    if (!this.wants(type)) return;
    const failed = (err: unknown) =>
      this.logger.error({ err, type }, 'could not store a webhook event');
    try {
      const stored = this.store.transaction(() => this.write<T>(type, data));
      if (stored instanceof Promise) stored.catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  private index(): void {
    const by = new Map<WebhookEventType, string[]>();
    for (const e of this.endpoints.values()) {
      for (const type of e.events) {
        const ids = by.get(type) ?? [];
        ids.push(e.id);
        by.set(type, ids);
      }
    }
    this.subscribers = by;
  }
}
