import type { WebhookSettings, WorkerEventOf } from '@pollmasters/shared/node';
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import type {
  AttemptOutcome,
  DueDelivery,
  StoredEndpoint,
  WebhookStore,
} from '../store/webhookStore.js';
import type { AddressPolicy } from './addressPolicy.js';
import type { WebhookOutbox } from './outbox.js';
import { type PostResult, postWebhook } from './post.js';

/** What the deliveries did since the last report, and what waits. */
export type DeliveryStats = Omit<WorkerEventOf<'webhookStats'>, 'type'>;

export interface DispatcherDeps {
  store: WebhookStore;
  outbox: WebhookOutbox;
  policy: AddressPolicy;
  settings: WebhookSettings;
  report: (stats: DeliveryStats) => void;
  logger: Logger;
}

/** Delivered deliveries are kept this long (for `deliveries`), then pruned. */
const KEEP_DELIVERED_MS = 7 * 24 * 3_600_000;
const REPORT_EVERY_MS = 1_000;

/**
 * Sends the outbox: per endpoint one delivery at a time, oldest first (so in order), at most
 * `settings.concurrency` at once for the session. Only async I/O and small indexed reads run
 * here, in the worker's event loop, so votes are not held up by a slow or failing receiver; a
 * hanging one holds one request (bounded by the response timeout), never a queue in memory.
 * A failed attempt is retried with exponential backoff and jitter, with the same `webhook-id`;
 * after `maxAttempts` the delivery is `failed` and the endpoint goes on with its next event.
 */
export class WebhookDispatcher {
  private readonly inFlight = new Map<string, AbortController>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Endpoints whose next delivery is being read (PostgreSQL answers later). */
  private readonly looking = new Set<string>();
  private scheduled = false;
  private closed = false;
  private counts = { delivered: 0, retried: 0, failed: 0 };
  private reportTimer: NodeJS.Timeout | null = null;
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(private readonly deps: DispatcherDeps) {
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), 3_600_000);
    this.pruneTimer.unref();
    this.wake();
    this.statsChanged();
  }

  /** Looks for work soon (after the current transaction has committed). */
  wake(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
    this.statsChanged();
  }

  /** An endpoint changed (resumed, new URL, replayed): look at it again now. */
  reconsider(endpointId: string): void {
    const timer = this.timers.get(endpointId);
    if (timer) clearTimeout(timer);
    this.timers.delete(endpointId);
    this.wake();
  }

  /** Stops sending: requests in flight are cut and stay pending (sent again after a restart). */
  close(): void {
    this.closed = true;
    for (const c of this.inFlight.values()) c.abort();
    for (const t of this.timers.values()) clearTimeout(t);
    if (this.reportTimer) clearTimeout(this.reportTimer);
    clearInterval(this.pruneTimer);
  }

  private pump(): void {
    if (this.closed) return;
    for (const endpoint of this.deps.outbox.list()) {
      if (this.inFlight.size + this.looking.size >= this.deps.settings.concurrency) return;
      const id = endpoint.id;
      if (endpoint.paused || this.inFlight.has(id) || this.timers.has(id) || this.looking.has(id))
        continue;
      const due = this.deps.store.due(id);
      if (!(due instanceof Promise)) {
        this.consider(endpoint, due);
        continue;
      }
      this.looking.add(id);
      due.then(
        (d) => {
          this.looking.delete(id);
          if (!this.closed) this.consider(endpoint, d);
        },
        (err: unknown) => {
          this.looking.delete(id);
          this.deps.logger.warn(
            { err, endpointId: id },
            'could not read the next webhook delivery',
          );
        },
      );
    }
  }

  /** Sends the endpoint's next delivery now, or sets a timer for when it is due. */
  private consider(endpoint: StoredEndpoint, due: DueDelivery | undefined): void {
    if (!due) return;
    const wait = (due.nextAttemptAt ?? 0) - Date.now();
    if (wait > 0) {
      const timer = setTimeout(() => {
        this.timers.delete(endpoint.id);
        this.pump();
      }, wait);
      this.timers.set(endpoint.id, timer);
      return;
    }
    void this.send(endpoint, due);
  }

  private async send(endpoint: StoredEndpoint, due: DueDelivery): Promise<void> {
    const controller = new AbortController();
    this.inFlight.set(endpoint.id, controller);
    const { settings, policy } = this.deps;
    let result: PostResult;
    try {
      // The lookup counts against the connect timeout (and the whole exchange's): what it
      // took is not given again to the connection.
      const started = Date.now();
      const target = await policy.target(endpoint.url, settings.connectTimeoutMs);
      if (controller.signal.aborted) throw new Error('stopped');
      const spent = Date.now() - started;
      // Signed at send time with the endpoint's secret now (a rotation applies to retries).
      // One instant for the signature and its header: the library signs the whole second, and
      // two clock reads could fall on either side of one, a signature no receiver accepts.
      const at = new Date();
      const signature = new Webhook(endpoint.secret).sign(due.eventId, at, due.body);
      result = await postWebhook(target, {
        headers: {
          'webhook-id': due.eventId,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body: due.body,
        connectTimeoutMs: Math.max(1, settings.connectTimeoutMs - spent),
        responseTimeoutMs: Math.max(1, settings.responseTimeoutMs - spent),
        signal: controller.signal,
      });
    } catch (err) {
      result = { code: null, error: (err as Error).message };
    }
    this.inFlight.delete(endpoint.id);
    // Closed meanwhile: the database may be closed; the delivery stays pending as it was.
    if (this.closed) return;
    this.record(endpoint, due, result);
    this.pump();
  }

  private record(endpoint: StoredEndpoint, due: DueDelivery, result: PostResult): void {
    const { settings, store, logger } = this.deps;
    const attempts = due.attempts + 1;
    let outcome: AttemptOutcome;
    if (result.error === null) {
      outcome = { status: 'delivered', code: result.code!, at: Date.now() };
      this.counts.delivered += 1;
    } else if (attempts >= settings.maxAttempts) {
      outcome = { status: 'failed', code: result.code, error: result.error, nextAttemptAt: null };
      this.counts.failed += 1;
      logger.warn(
        { endpointId: endpoint.id, deliveryId: due.id, attempts, error: result.error },
        'webhook delivery failed; giving up on it',
      );
    } else {
      const delay = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** (attempts - 1));
      const nextAttemptAt = Date.now() + Math.round(delay * (0.5 + Math.random() * 0.5));
      outcome = { status: 'pending', code: result.code, error: result.error, nextAttemptAt };
      this.counts.retried += 1;
      logger.debug(
        { endpointId: endpoint.id, deliveryId: due.id, attempts, error: result.error },
        'webhook delivery attempt failed; will retry',
      );
    }
    const stored = store.attempted(due.id, outcome);
    if (stored instanceof Promise) {
      stored.catch((err: unknown) => logger.error({ err }, 'could not store a webhook attempt'));
    }
    this.statsChanged();
  }

  /** Reports the stats at most once a second, and once at start. */
  private statsChanged(): void {
    if (this.reportTimer || this.closed) return;
    this.reportTimer = setTimeout(() => {
      this.reportTimer = null;
      if (this.closed) return;
      const counts = this.counts;
      this.counts = { delivered: 0, retried: 0, failed: 0 };
      void Promise.resolve()
        .then(() => this.deps.store.pending())
        .then(
          ({ count, oldestAt }) => {
            if (!this.closed)
              this.deps.report({ ...counts, pending: count, oldestPendingAt: oldestAt });
          },
          (err: unknown) => this.deps.logger.warn({ err }, 'could not count pending webhooks'),
        );
    }, REPORT_EVERY_MS);
  }

  private prune(): void {
    void Promise.resolve()
      .then(() => this.deps.store.prune(Date.now() - KEEP_DELIVERED_MS))
      .catch((err: unknown) =>
        this.deps.logger.warn({ err }, 'could not prune delivered webhooks'),
      );
  }
}
