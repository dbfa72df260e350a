import type { WebhookDelivery, WebhookDeliveryStatus, WebhookEventType } from '@pollmasters/shared';
import type { Db } from './database.js';

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

export type Awaitable<T> = T | Promise<T>;

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
  addEvent(
    eventId: string,
    type: WebhookEventType,
    createdAt: number,
    body: string,
    endpointIds: readonly string[],
  ): void;
  /** The endpoint's oldest pending delivery: the one to send next (in order). */
  due(endpointId: string): Awaitable<DueDelivery | undefined>;
  attempted(id: number, outcome: AttemptOutcome): Awaitable<void>;
  /** Deliveries waiting to be sent, and when the oldest one's event was stored. */
  pending(): Awaitable<{ count: number; oldestAt: number | null }>;
  /** An endpoint's deliveries, newest first. */
  deliveries(endpointId: string, query: DeliveryQuery): Awaitable<WebhookDelivery[]>;
  /** Puts failed deliveries back in the queue (one, or all of the endpoint's); how many. */
  requeue(endpointId: string, deliveryId: number | undefined, now: number): Awaitable<number>;
  /** Forgets deliveries delivered before `before`, and events no delivery needs any more. */
  prune(before: number): Awaitable<void>;
}

export interface DeliveryQuery {
  status?: WebhookDeliveryStatus | undefined;
  limit: number;
  before?: number | undefined;
}

/** The webhook tables of a session's SQLite database (migration 4 in ./database.ts). */
export class SqliteWebhookStore implements WebhookStore {
  private readonly q;

  constructor(private readonly db: Db) {
    this.q = {
      endpoints: db.prepare<[], EndpointRow>(
        'SELECT * FROM webhook_endpoints ORDER BY created_at, id',
      ),
      insertEndpoint: db.prepare(
        `INSERT INTO webhook_endpoints (id, url, events, paused, secret, created_at, updated_at)
         VALUES (@id, @url, @events, @paused, @secret, @createdAt, @updatedAt)`,
      ),
      updateEndpoint: db.prepare(
        `UPDATE webhook_endpoints SET url = @url, events = @events, paused = @paused,
           secret = @secret, updated_at = @updatedAt WHERE id = @id`,
      ),
      deleteEndpoint: db.prepare<[string]>('DELETE FROM webhook_endpoints WHERE id = ?'),
      deleteDeliveries: db.prepare<[string]>(
        'DELETE FROM webhook_deliveries WHERE endpoint_id = ?',
      ),
      insertEvent: db.prepare<[string, string, number, string]>(
        'INSERT INTO webhook_events (id, type, created_at, body) VALUES (?, ?, ?, ?)',
      ),
      insertDelivery: db.prepare<[string, number, number]>(
        `INSERT INTO webhook_deliveries (endpoint_id, event_seq, status, next_attempt_at)
         VALUES (?, ?, 'pending', ?)`,
      ),
      due: db.prepare<[string], DueDelivery>(
        `SELECT d.id, d.attempts, d.next_attempt_at AS nextAttemptAt, e.id AS eventId, e.body
         FROM webhook_deliveries d JOIN webhook_events e ON e.seq = d.event_seq
         WHERE d.status = 'pending' AND d.endpoint_id = ? ORDER BY d.id LIMIT 1`,
      ),
      attempted: db.prepare(
        `UPDATE webhook_deliveries SET status = @status, attempts = attempts + 1,
           last_code = @code, last_error = @error, next_attempt_at = @nextAttemptAt,
           delivered_at = @deliveredAt WHERE id = @id`,
      ),
      pending: db.prepare<[], { n: number; oldest: number | null }>(
        `SELECT count(*) AS n, (SELECT created_at FROM webhook_events WHERE seq =
           (SELECT min(event_seq) FROM webhook_deliveries WHERE status = 'pending')) AS oldest
         FROM webhook_deliveries WHERE status = 'pending'`,
      ),
      requeueOne: db.prepare<[number, number, string]>(
        `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?
         WHERE id = ? AND endpoint_id = ? AND status = 'failed'`,
      ),
      requeueAll: db.prepare<[number, string]>(
        `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?
         WHERE endpoint_id = ? AND status = 'failed'`,
      ),
      pruneDelivered: db.prepare<[number]>(
        "DELETE FROM webhook_deliveries WHERE status = 'delivered' AND delivered_at < ?",
      ),
      pruneEvents: db.prepare(
        `DELETE FROM webhook_events WHERE seq < coalesce((SELECT min(event_seq)
           FROM webhook_deliveries), (SELECT max(seq) + 1 FROM webhook_events))`,
      ),
    };
  }

  endpoints(): StoredEndpoint[] {
    return this.q.endpoints.all().map(endpointOf);
  }

  insertEndpoint(e: StoredEndpoint): void {
    this.q.insertEndpoint.run(this.params(e));
  }

  updateEndpoint(e: StoredEndpoint): void {
    this.q.updateEndpoint.run(this.params(e));
  }

  /** Removes an endpoint and its deliveries (their events go with the next prune). */
  deleteEndpoint(id: string): void {
    this.db.transaction(() => {
      this.q.deleteDeliveries.run(id);
      this.q.deleteEndpoint.run(id);
    })();
  }

  /** Runs `write` in one transaction. */
  transaction(write: () => void): void {
    this.db.transaction(write)();
  }

  /** Stores an event and a pending delivery of it to each endpoint (call inside a transaction). */
  addEvent(
    eventId: string,
    type: WebhookEventType,
    createdAt: number,
    body: string,
    endpointIds: readonly string[],
  ): void {
    const seq = Number(this.q.insertEvent.run(eventId, type, createdAt, body).lastInsertRowid);
    for (const id of endpointIds) this.q.insertDelivery.run(id, seq, createdAt);
  }

  /** The endpoint's oldest pending delivery: the one to send next (in order). */
  due(endpointId: string): DueDelivery | undefined {
    return this.q.due.get(endpointId);
  }

  attempted(id: number, outcome: AttemptOutcome): void {
    this.q.attempted.run(
      outcome.status === 'delivered'
        ? {
            id,
            status: 'delivered',
            code: outcome.code,
            error: null,
            nextAttemptAt: null,
            deliveredAt: outcome.at,
          }
        : { id, ...outcome, deliveredAt: null },
    );
  }

  /** Deliveries waiting to be sent, and when the oldest one's event was stored. */
  pending(): { count: number; oldestAt: number | null } {
    const row = this.q.pending.get()!;
    return { count: row.n, oldestAt: row.oldest };
  }

  /** An endpoint's deliveries, newest first. */
  deliveries(endpointId: string, query: DeliveryQuery): WebhookDelivery[] {
    const rows = this.db
      .prepare<unknown[], DeliveryRow>(
        `SELECT d.id, d.endpoint_id, e.id AS event_id, e.type, d.status, d.attempts, d.last_code,
           d.last_error, d.next_attempt_at, e.created_at, d.delivered_at
         FROM webhook_deliveries d JOIN webhook_events e ON e.seq = d.event_seq
         WHERE d.endpoint_id = ? ${query.status ? 'AND d.status = ?' : ''}
           ${query.before ? 'AND d.id < ?' : ''}
         ORDER BY d.id DESC LIMIT ?`,
      )
      .all(...[endpointId, query.status, query.before, query.limit].filter((v) => v !== undefined));
    return rows.map(deliveryOf);
  }

  /** Puts failed deliveries back in the queue (one, or all of the endpoint's); how many. */
  requeue(endpointId: string, deliveryId: number | undefined, now: number): number {
    return deliveryId === undefined
      ? this.q.requeueAll.run(now, endpointId).changes
      : this.q.requeueOne.run(now, deliveryId, endpointId).changes;
  }

  /** Forgets deliveries delivered before `before`, and events no delivery needs any more. */
  prune(before: number): void {
    this.db.transaction(() => {
      this.q.pruneDelivered.run(before);
      this.q.pruneEvents.run();
    })();
  }

  private params(e: StoredEndpoint) {
    return {
      id: e.id,
      url: e.url,
      events: JSON.stringify(e.events),
      paused: e.paused ? 1 : 0,
      secret: e.secret,
      createdAt: e.createdAt,
      updatedAt: e.updatedAt,
    };
  }
}
