import { describe, expect, it } from 'vitest';
import type { AttemptOutcome, StoredEndpoint } from '../src/store/webhookStore.js';
import { engines, storeHomes } from './storeEngines.js';

const endpoint = (id: string, createdAt: number): StoredEndpoint => ({
  id,
  url: `https://hooks.example/${id}`,
  events: ['poll.vote', 'poll.sent'],
  paused: false,
  secret: `whsec_${id}`,
  createdAt,
  updatedAt: createdAt,
});

describe.each(engines)('the webhook store on %s', (engine) => {
  const home = storeHomes(engine, 'webhookstore');

  it('keeps endpoints, queues each event per endpoint in order, and records attempts', async () => {
    const place = home();
    let store = await place.open();
    const hooks = store.webhooks;
    await hooks.insertEndpoint(endpoint('a', 1));
    await hooks.insertEndpoint(endpoint('b', 2));
    await hooks.updateEndpoint({ ...endpoint('b', 2), paused: true, updatedAt: 3 });
    expect((await hooks.endpoints()).map((e) => [e.id, e.paused])).toEqual([
      ['a', false],
      ['b', true],
    ]);

    await hooks.transaction(() => {
      hooks.addEvent('msg_1', 'poll.sent', 100, '{"n":1}', ['a', 'b']);
      hooks.addEvent('msg_2', 'poll.vote', 200, '{"n":2}', ['a']);
    });
    expect(await hooks.pending()).toEqual({ count: 3, oldestAt: 100 });
    const first = await hooks.due('a');
    expect(first).toMatchObject({ eventId: 'msg_1', body: '{"n":1}', attempts: 0 });

    // A failed attempt is retried later; then it fails for good; the next one is due.
    await hooks.attempted(first!.id, {
      status: 'pending',
      code: 500,
      error: 'HTTP 500',
      nextAttemptAt: 1_000,
    });
    expect(await hooks.due('a')).toMatchObject({
      eventId: 'msg_1',
      attempts: 1,
      nextAttemptAt: 1_000,
    });
    await hooks.attempted(first!.id, {
      status: 'failed',
      code: 500,
      error: 'HTTP 500',
      nextAttemptAt: null,
    });
    const second = await hooks.due('a');
    expect(second).toMatchObject({ eventId: 'msg_2' });
    await hooks.attempted(second!.id, { status: 'delivered', code: 204, at: 300 });
    expect(await hooks.due('a')).toBeUndefined();

    const listed = await hooks.deliveries('a', { limit: 10 });
    expect(listed.map((d) => [d.eventId, d.status, d.attempts, d.lastResponseCode])).toEqual([
      ['msg_2', 'delivered', 1, 204],
      ['msg_1', 'failed', 2, 500],
    ]);
    expect(await hooks.deliveries('a', { limit: 10, status: 'failed' })).toHaveLength(1);
    expect(await hooks.deliveries('a', { limit: 10, before: second!.id })).toHaveLength(1);

    // Replayed: the failed one is due again, with the same webhook-id.
    expect(await hooks.requeue('a', undefined, 400)).toBe(1);
    expect(await hooks.requeue('a', first!.id, 400)).toBe(0);
    expect(await hooks.due('a')).toMatchObject({ eventId: 'msg_1', attempts: 0 });

    // Pruning forgets delivered ones; an event still owed to someone stays.
    await hooks.prune(1_000);
    expect(await hooks.deliveries('a', { limit: 10 })).toHaveLength(1);
    // Events go only below the oldest one still owed (msg_1, to b and again to a): both stay.
    expect(await place.rows('webhook_events')).toBe(2);
    await hooks.deleteEndpoint('b');
    await store.close();

    store = await place.open();
    expect((await store.webhooks.endpoints()).map((e) => e.id)).toEqual(['a']);
    expect(await store.webhooks.pending()).toEqual({ count: 1, oldestAt: 100 });
    await store.close();
    place.remove();
  });

  it("counts each endpoint's deliveries by status as they succeed, fail and are replayed", async () => {
    const place = home();
    let store = await place.open();
    const hooks = store.webhooks;
    const counts = async () => Object.fromEntries(await hooks.deliveryCounts());
    await hooks.insertEndpoint(endpoint('a', 1));
    await hooks.insertEndpoint(endpoint('b', 2));
    expect(await counts()).toEqual({});

    await hooks.transaction(() => {
      for (let n = 1; n <= 5; n++) hooks.addEvent(`msg_${n}`, 'poll.vote', n, '{}', ['a', 'b']);
      hooks.addEvent('msg_6', 'poll.sent', 6, '{}', ['a']);
    });
    expect(await counts()).toEqual({
      a: { pending: 6, failed: 0, delivered: 0 },
      b: { pending: 5, failed: 0, delivered: 0 },
    });

    // a: two delivered, two failed (one after a retry, which stays pending until then).
    const attempt = async (outcome: AttemptOutcome) => {
      const due = await hooks.due('a');
      await hooks.attempted(due!.id, outcome);
    };
    const failed = { status: 'failed', code: 500, error: 'HTTP 500', nextAttemptAt: null } as const;
    await attempt({ status: 'delivered', code: 200, at: 10 });
    await attempt({ status: 'pending', code: null, error: 'timeout', nextAttemptAt: 20 });
    expect((await counts()).a).toEqual({ pending: 5, failed: 0, delivered: 1 });
    await attempt(failed);
    await attempt(failed);
    await attempt({ status: 'delivered', code: 204, at: 30 });
    expect(await counts()).toEqual({
      a: { pending: 2, failed: 2, delivered: 2 },
      b: { pending: 5, failed: 0, delivered: 0 },
    });

    // Replayed: one, then the rest; a replay of b's (none failed) changes nothing.
    const [newestFailed] = await hooks.deliveries('a', { limit: 1, status: 'failed' });
    expect(await hooks.requeue('a', newestFailed!.id, 40)).toBe(1);
    expect((await counts()).a).toEqual({ pending: 3, failed: 1, delivered: 2 });
    expect(await hooks.requeue('b', undefined, 40)).toBe(0);
    expect(await hooks.requeue('a', undefined, 40)).toBe(1);
    expect(await counts()).toEqual({
      a: { pending: 4, failed: 0, delivered: 2 },
      b: { pending: 5, failed: 0, delivered: 0 },
    });

    // Pruned delivered ones and a deleted endpoint's are no longer counted, after a restart too.
    await hooks.prune(20);
    await hooks.deleteEndpoint('b');
    await store.close();
    store = await place.open();
    expect(Object.fromEntries(await store.webhooks.deliveryCounts())).toEqual({
      a: { pending: 4, failed: 0, delivered: 1 },
    });
    await store.close();
    place.remove();
  });
});
