import type { WebhookDelivery, WebhookDeliveryCounts } from '@pollmasters/shared';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';
import {
  type AttemptOutcome,
  type DeliveryCountRow,
  type DeliveryQuery,
  type DeliveryRow,
  type DueDelivery,
  deliveryCountsOf,
  deliveryOf,
  type EndpointRow,
  endpointOf,
  type NewWebhookEvent,
  type StoredEndpoint,
  type WebhookStore,
} from './webhookStore.js';

/** The webhook tables of a session's SQLite database (migration 4 in ./database.ts). */
export class SqliteWebhookStore implements WebhookStore {
  private readonly q;
  private readonly deliveryQueries = new Map<string, Statement<unknown[], DeliveryRow>>();

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
      // In the order of webhook_deliveries_queue (status, endpoint_id, id): read from it alone.
      counts: db.prepare<[], DeliveryCountRow>(
        `SELECT endpoint_id, status, count(*) AS n FROM webhook_deliveries
         GROUP BY status, endpoint_id`,
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
  addEvent(...[eventId, type, createdAt, body, endpointIds]: NewWebhookEvent): void {
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

  /** Every endpoint's deliveries counted by status (one grouped read); none: not in the map. */
  deliveryCounts(): Map<string, WebhookDeliveryCounts> {
    return deliveryCountsOf(this.q.counts.all());
  }

  /** An endpoint's deliveries, newest first. */
  deliveries(endpointId: string, query: DeliveryQuery): WebhookDelivery[] {
    const rows = this.deliveriesQuery(query.status !== undefined, query.before !== undefined).all(
      ...[endpointId, query.status, query.before, query.limit].filter((v) => v !== undefined),
    );
    return rows.map(deliveryOf);
  }

  /**
   * The statement of a deliveries listing, by its filters, prepared once (the dashboard lists
   * every endpoint's newest delivery every 2 s).
   */
  private deliveriesQuery(byStatus: boolean, before: boolean) {
    const key = `${byStatus}/${before}`;
    let statement = this.deliveryQueries.get(key);
    if (!statement) {
      statement = this.db.prepare<unknown[], DeliveryRow>(
        `SELECT d.id, d.endpoint_id, e.id AS event_id, e.type, d.status, d.attempts, d.last_code,
           d.last_error, d.next_attempt_at, e.created_at, d.delivered_at
         FROM webhook_deliveries d JOIN webhook_events e ON e.seq = d.event_seq
         WHERE d.endpoint_id = ? ${byStatus ? 'AND d.status = ?' : ''}
           ${before ? 'AND d.id < ?' : ''}
         ORDER BY d.id DESC LIMIT ?`,
      );
      this.deliveryQueries.set(key, statement);
    }
    return statement;
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
