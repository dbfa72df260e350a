import type {
  WebhookDelivery,
  WebhookDeliveryCounts,
  WebhookDeliveryStatus,
  WebhookEventType,
} from '@pollmasters/shared';
import type { Awaitable } from './pollBackend.js';

/** An endpoint as stored: with its secret, which only create and rotate ever show. */
export interface StoredEndpoint {
  id: string;
  url: string;
  events: WebhookEventType[];
  paused: boolean;
  secret: string;
  createdAt: number;
  updatedAt: number;
}

export interface EndpointRow {
  id: string;
  url: string;
  events: string;
  paused: number;
  secret: string;
  created_at: number;
  updated_at: number;
}

/** The next delivery of an endpoint, with what it sends. */
export interface DueDelivery {
  id: number;
  attempts: number;
  nextAttemptAt: number | null;
  eventId: string;
  body: string;
}

export interface DeliveryRow {
  id: number;
  endpoint_id: string;
  event_id: string;
  type: WebhookEventType;
  status: WebhookDeliveryStatus;
  attempts: number;
  last_code: number | null;
  last_error: string | null;
  next_attempt_at: number | null;
  created_at: number;
  delivered_at: number | null;
}

/** A row of the grouped count of deliveries: one endpoint's deliveries in one status. */
export interface DeliveryCountRow {
  endpoint_id: string;
  status: WebhookDeliveryStatus;
  n: number;
}

/** The counts of an endpoint without deliveries. */
export const noDeliveries = (): WebhookDeliveryCounts => ({ pending: 0, failed: 0, delivered: 0 });

/** Each endpoint's counts by status, from the grouped rows (an endpoint with none: absent). */
export const deliveryCountsOf = (rows: DeliveryCountRow[]): Map<string, WebhookDeliveryCounts> => {
  const counts = new Map<string, WebhookDeliveryCounts>();
  for (const r of rows) {
    const c = counts.get(r.endpoint_id) ?? noDeliveries();
    c[r.status] = r.n;
    counts.set(r.endpoint_id, c);
  }
  return counts;
};

/** An attempt's outcome, as the dispatcher writes it. */
export type AttemptOutcome =
  | { status: 'delivered'; code: number; at: number }
  | {
      status: 'pending' | 'failed';
      code: number | null;
      error: string;
      nextAttemptAt: number | null;
    };

export const endpointOf = (r: EndpointRow): StoredEndpoint => ({
  id: r.id,
  url: r.url,
  events: JSON.parse(r.events) as WebhookEventType[],
  paused: r.paused === 1,
  secret: r.secret,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const deliveryOf = (r: DeliveryRow): WebhookDelivery => ({
  id: r.id,
  endpointId: r.endpoint_id,
  eventId: r.event_id,
  type: r.type,
  status: r.status,
  attempts: r.attempts,
  lastResponseCode: r.last_code,
  lastError: r.last_error,
  nextAttemptAt: r.status === 'pending' ? r.next_attempt_at : null,
  createdAt: r.created_at,
  deliveredAt: r.delivered_at,
});

/**
 * A session's webhook endpoints, outbox of events, and each event's delivery to each endpoint
 * subscribed to it (one implementation per engine: answers now on SQLite, through promises on
 * PostgreSQL). `addEvent` writes inside the caller's `transaction` (of what the event reports).
 */
export interface WebhookStore {
  endpoints(): Awaitable<StoredEndpoint[]>;
  insertEndpoint(e: StoredEndpoint): Awaitable<void>;
  updateEndpoint(e: StoredEndpoint): Awaitable<void>;
  /** Removes an endpoint and its deliveries (their events go with the next prune). */
  deleteEndpoint(id: string): Awaitable<void>;
  /** Runs `write` in one transaction. */
  transaction(write: () => void): Awaitable<void>;
  /** Stores an event and a pending delivery of it to each endpoint (inside a transaction). */
  addEvent(...event: NewWebhookEvent): void;
  /** The endpoint's oldest pending delivery: the one to send next (in order). */
  due(endpointId: string): Awaitable<DueDelivery | undefined>;
  attempted(id: number, outcome: AttemptOutcome): Awaitable<void>;
  /** Deliveries waiting to be sent, and when the oldest one's event was stored. */
  pending(): Awaitable<{ count: number; oldestAt: number | null }>;
  /** Every endpoint's deliveries counted by status (one grouped read); none: not in the map. */
  deliveryCounts(): Awaitable<Map<string, WebhookDeliveryCounts>>;
  /** An endpoint's deliveries, newest first. */
  deliveries(endpointId: string, query: DeliveryQuery): Awaitable<WebhookDelivery[]>;
  /** Puts failed deliveries back in the queue (one, or all of the endpoint's); how many. */
  requeue(endpointId: string, deliveryId: number | undefined, now: number): Awaitable<number>;
  /** Forgets deliveries delivered before `before`, and events no delivery needs any more. */
  prune(before: number): Awaitable<void>;
}

/** An event as the outbox stores it: its id, type, time, signed body and its endpoints. */
export type NewWebhookEvent = [
  eventId: string,
  type: WebhookEventType,
  createdAt: number,
  body: string,
  endpointIds: readonly string[],
];

export interface DeliveryQuery {
  status?: WebhookDeliveryStatus | undefined;
  limit: number;
  before?: number | undefined;
}
