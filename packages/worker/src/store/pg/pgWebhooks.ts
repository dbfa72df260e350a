import type { WebhookDelivery, WebhookDeliveryCounts } from '@pollmasters/shared';
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
} from '../webhookStore.js';
import type { PgSession } from './pgSession.js';

/** The webhook tables in PostgreSQL, a session's rows of them. */
export class PgWebhookStore implements WebhookStore {
  private readonly sid: string;

  constructor(private readonly pg: PgSession) {
    this.sid = pg.sessionId;
  }

  async endpoints(): Promise<StoredEndpoint[]> {
    const rows = await this.pg.read<EndpointRow>(
      `SELECT id, url, events, paused::int AS paused, secret, created_at, updated_at
       FROM webhook_endpoints WHERE session_id = $1 ORDER BY created_at, id`,
      [this.sid],
    );
    return rows.map(endpointOf);
  }

  insertEndpoint(e: StoredEndpoint): Promise<void> {
    return this.pg.transaction(() =>
      this.pg.exec(
        `INSERT INTO webhook_endpoints (session_id, id, url, events, paused, secret, created_at,
           updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          this.sid,
          e.id,
          e.url,
          JSON.stringify(e.events),
          e.paused,
          e.secret,
          e.createdAt,
          e.updatedAt,
        ],
      ),
    );
  }

  updateEndpoint(e: StoredEndpoint): Promise<void> {
    return this.pg.transaction(() =>
      this.pg.exec(
        `UPDATE webhook_endpoints SET url = $3, events = $4, paused = $5, secret = $6,
           updated_at = $7 WHERE session_id = $1 AND id = $2`,
        [this.sid, e.id, e.url, JSON.stringify(e.events), e.paused, e.secret, e.updatedAt],
      ),
    );
  }

  deleteEndpoint(id: string): Promise<void> {
    return this.pg.transaction(() => {
      this.pg.exec('DELETE FROM webhook_deliveries WHERE session_id = $1 AND endpoint_id = $2', [
        this.sid,
        id,
      ]);
      this.pg.exec('DELETE FROM webhook_endpoints WHERE session_id = $1 AND id = $2', [
        this.sid,
        id,
      ]);
    });
  }

  transaction(write: () => void): Promise<void> {
    return this.pg.transaction(write);
  }

  addEvent(...[eventId, type, createdAt, body, endpointIds]: NewWebhookEvent): void {
    // One statement: the event and its deliveries (the event's seq is not known before).
    this.pg.exec(
      `WITH e AS (INSERT INTO webhook_events (session_id, id, type, created_at, body)
         VALUES ($1, $2, $3, $4, $5) RETURNING seq)
       INSERT INTO webhook_deliveries (session_id, endpoint_id, event_seq, status, next_attempt_at)
       SELECT $1, ep, e.seq, 'pending', $4 FROM e, unnest($6::text[]) WITH ORDINALITY AS t(ep, n)
       ORDER BY n`,
      [this.sid, eventId, type, createdAt, body, endpointIds],
    );
  }

  async due(endpointId: string): Promise<DueDelivery | undefined> {
    const [row] = await this.pg.read<DueDelivery>(
      `SELECT d.id, d.attempts, d.next_attempt_at AS "nextAttemptAt", e.id AS "eventId", e.body
       FROM webhook_deliveries d JOIN webhook_events e
         ON e.session_id = d.session_id AND e.seq = d.event_seq
       WHERE d.session_id = $1 AND d.status = 'pending' AND d.endpoint_id = $2
       ORDER BY d.id LIMIT 1`,
      [this.sid, endpointId],
    );
    return row;
  }

  attempted(id: number, outcome: AttemptOutcome): Promise<void> {
    const o =
      outcome.status === 'delivered'
        ? { status: 'delivered', code: outcome.code, error: null, next: null, at: outcome.at }
        : { ...outcome, next: outcome.nextAttemptAt, at: null };
    return this.pg.transaction(() =>
      this.pg.exec(
        `UPDATE webhook_deliveries SET status = $3, attempts = attempts + 1, last_code = $4,
           last_error = $5, next_attempt_at = $6, delivered_at = $7
         WHERE session_id = $1 AND id = $2`,
        [this.sid, id, o.status, o.code, o.error, o.next, o.at],
      ),
    );
  }

  async pending(): Promise<{ count: number; oldestAt: number | null }> {
    const [row] = await this.pg.read<{ n: number; oldest: number | null }>(
      `SELECT count(*)::int AS n, (SELECT e.created_at FROM webhook_events e WHERE e.session_id = $1
           AND e.seq = (SELECT min(event_seq) FROM webhook_deliveries
             WHERE session_id = $1 AND status = 'pending')) AS oldest
       FROM webhook_deliveries WHERE session_id = $1 AND status = 'pending'`,
      [this.sid],
    );
    return { count: row?.n ?? 0, oldestAt: row?.oldest ?? null };
  }

  /** One grouped read of the session's part of webhook_deliveries_queue. */
  async deliveryCounts(): Promise<Map<string, WebhookDeliveryCounts>> {
    return deliveryCountsOf(
      await this.pg.read<DeliveryCountRow>(
        `SELECT endpoint_id, status, count(*)::int AS n FROM webhook_deliveries
         WHERE session_id = $1 GROUP BY status, endpoint_id`,
        [this.sid],
      ),
    );
  }

  async deliveries(endpointId: string, query: DeliveryQuery): Promise<WebhookDelivery[]> {
    const rows = await this.pg.read<DeliveryRow>(
      `SELECT d.id, d.endpoint_id, e.id AS event_id, e.type, d.status, d.attempts, d.last_code,
         d.last_error, d.next_attempt_at, e.created_at, d.delivered_at
       FROM webhook_deliveries d JOIN webhook_events e
         ON e.session_id = d.session_id AND e.seq = d.event_seq
       WHERE d.session_id = $1 AND d.endpoint_id = $2
         AND ($3::text IS NULL OR d.status = $3) AND ($4::bigint IS NULL OR d.id < $4)
       ORDER BY d.id DESC LIMIT $5`,
      [this.sid, endpointId, query.status ?? null, query.before ?? null, query.limit],
    );
    return rows.map(deliveryOf);
  }

  async requeue(endpointId: string, deliveryId: number | undefined, now: number): Promise<number> {
    const rows = await this.pg.returning(
      `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3
       WHERE session_id = $1 AND endpoint_id = $2 AND status = 'failed'
         AND ($4::bigint IS NULL OR id = $4) RETURNING id`,
      [this.sid, endpointId, now, deliveryId ?? null],
    );
    return rows.length;
  }

  prune(before: number): Promise<void> {
    return this.pg.transaction(() => {
      this.pg.exec(
        `DELETE FROM webhook_deliveries WHERE session_id = $1 AND status = 'delivered'
           AND delivered_at < $2`,
        [this.sid, before],
      );
      this.pg.exec(
        `DELETE FROM webhook_events WHERE session_id = $1 AND seq < coalesce(
           (SELECT min(event_seq) FROM webhook_deliveries WHERE session_id = $1),
           (SELECT max(seq) + 1 FROM webhook_events WHERE session_id = $1))`,
        [this.sid],
      );
    });
  }
}
