import { EventEmitter } from 'node:events';
import { expect, it } from 'vitest';
import { ServerMetrics } from '../src/metrics.js';
import type { SessionService } from '../src/session/sessionService.js';

/** The members of a session the metrics read, with its vote count set by the test. */
const sessionOf = (sessionId: string) =>
  Object.assign(new EventEmitter(), {
    sessionId,
    votesCounted: 0,
    earlyVotesWaiting: 0,
    sessionState: { status: 'ready', qr: null, user: null },
    workerState: 'running',
    pollCount: 1,
    lastEventAt: null,
    webhookOutbox: { pending: 0, oldestPendingAt: null },
  });

const sample = async (metrics: ServerMetrics, session: string) => {
  const { body } = await metrics.text();
  const name = `pollmasters_votes_accepted_total{session="${session}"} `;
  return Number(
    body
      .split('\n')
      .find((l) => l.startsWith(name))
      ?.slice(name.length),
  );
};

it('reports the votes a session counted, as /healthz does, whatever its read model emitted', async () => {
  const shop = sessionOf('shop');
  const sessions = Object.assign(new EventEmitter(), {
    list: () => [{ service: shop as unknown as SessionService }],
    pool: { workers: [] },
  });
  const metrics = new ServerMetrics({
    sessions: sessions as never,
    socketIoClients: () => 0,
    trpcClients: () => 0,
  });
  try {
    expect(await sample(metrics, 'shop')).toBe(0);
    shop.votesCounted = 3;
    // Updates that carry changes the session did not count (a snapshot reloaded after a
    // worker restart re-announces polls) are no votes: only the session's count is.
    shop.emit('pollsUpdated', [{ changes: [{}, {}] }]);
    expect(await sample(metrics, 'shop')).toBe(3);
    shop.votesCounted = 5;
    expect(await sample(metrics, 'shop')).toBe(5);
  } finally {
    metrics.close();
  }
});
