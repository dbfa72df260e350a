import { createPollMastersClient, type PollMastersClient } from '@pollmasters/client';
import { countVotes, WebhookEndpointList, type WebhookEventOf } from '@pollmasters/shared';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countedAsLedger } from './helpers/ledger.js';
import { metricsOf, sample } from './helpers/metrics.js';
import { pgTestDatabase } from './helpers/pgTestDatabase.js';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { worldOf } from './helpers/tracked.js';
import { clientReady, eventually } from './helpers/wait.js';
import { WebhookReceiver } from './helpers/webhookReceiver.js';

// Issue #19: events are delivered signed (Standard Webhooks), in order, retried with the same
// webhook-id, failed after the retry limit and replayable; a hanging receiver does not hold
// votes up.

const SANDBOX = { voteDelayMs: { min: 5, max: 60 } };
let server: TestServer | undefined;
let probe: SandboxProbe | undefined;
const clients: PollMastersClient[] = [];
const receivers: WebhookReceiver[] = [];
/** Stops what a test started (idempotent). */
const stopAll = async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  probe?.close();
  probe = undefined;
  await server?.destroy();
  server = undefined;
  await Promise.all(receivers.splice(0).map((r) => r.close()));
};
afterEach(stopAll);

/** The store of the servers started: SQLite, or (issue #22) a PostgreSQL database. */
let databaseUrl: string | undefined;

const start = async (config: Record<string, unknown> = {}) => {
  server = await startTestServer({
    sandbox: SANDBOX,
    config: {
      webhookAllow: '127.0.0.1',
      webhookRetryBaseMs: 50,
      ...(databaseUrl ? { databaseUrl } : {}),
      ...config,
    },
  });
  probe = new SandboxProbe(server.sandboxChannel);
  const client = createPollMastersClient({ url: server.url });
  clients.push(client);
  await clientReady(client);
  const receiver = new WebhookReceiver();
  receivers.push(receiver);
  const url = await receiver.start();
  return { client, receiver, url };
};

const sendPolls = async (client: PollMastersClient, groups = 2): Promise<string[]> => {
  const chats = (await client.chats.list.query()).filter((c) => c.isGroup).slice(0, groups);
  const sent = await client.polls.send.mutate({
    chatIds: chats.map((c) => c.id),
    question: 'Webhook?',
    options: ['yes', 'no', 'maybe'],
    selectableCount: 0,
  });
  return sent.results.map((r) => r.pollId!);
};

/**
 * An endpoint's delivery counts as the list shows them, over tRPC and over REST (the same: it
 * is one read).
 */
const countsOf = async (client: PollMastersClient, endpointId: string) => {
  const viaTrpc = (await client.webhooks.list.query({})).endpoints.find((e) => e.id === endpointId);
  const res = await fetch(`${server!.url}/api/sessions/default/webhooks`);
  const viaRest = WebhookEndpointList.parse(await res.json()).endpoints.find(
    (e) => e.id === endpointId,
  );
  expect(viaRest?.deliveries).toEqual(viaTrpc?.deliveries);
  return viaTrpc!.deliveries;
};

const headersOf = (h: Record<string, unknown>) => ({
  'webhook-id': String(h['webhook-id']),
  'webhook-timestamp': String(h['webhook-timestamp']),
  'webhook-signature': String(h['webhook-signature']),
});

describe.each(['sqlite', 'postgres'] as const)('webhook delivery (store on %s)', (engine) => {
  // A database per test, as a data dir per test: each server starts from nothing.
  const database = engine === 'postgres' ? pgTestDatabase('webhookdelivery', 'test') : undefined;
  beforeEach(() => {
    databaseUrl = database?.url;
  });
  // The server first (this hook runs before the database's): it stores what it holds before
  // its database goes.
  afterEach(async () => {
    await stopAll();
    databaseUrl = undefined;
  });

  it('delivers poll.sent and every poll.vote, signed, in order; the last tally is the poll count', async () => {
    const { client, receiver, url } = await start();
    const endpoint = await client.webhooks.create.mutate({ url });
    const pollIds = await sendPolls(client);
    const polls = (await countedAsLedger(server!.session, probe!, pollIds)).map((c) => c.poll);
    const votes = polls.reduce((n, p) => n + p.voters.length, 0);
    expect(votes).toBeGreaterThan(0);

    const events = await eventually('the last vote of each poll to be delivered', () => {
      const got = receiver.delivered.map((r) => r.event);
      return (
        pollIds.every((id) => {
          const last = got.filter((e) => e.type === 'poll.vote' && e.data.pollId === id).at(-1) as
            | WebhookEventOf<'poll.vote'>
            | undefined;
          return last?.data.version === server!.session.getPoll(id)!.version;
        }) && got
      );
    });

    const wh = new Webhook(endpoint.secret);
    for (const r of receiver.received) {
      expect(wh.verify(r.body, headersOf(r.headers))).toEqual(JSON.parse(r.body));
      expect(r.headers['content-type']).toBe('application/json');
    }
    // A tampered body (or another secret) is refused by the library.
    const first = receiver.received[0]!;
    expect(() =>
      wh.verify(first.body.replace('Webhook?', 'Forged?'), headersOf(first.headers)),
    ).toThrow();
    const other = await client.webhooks.rotateSecret.mutate({ endpointId: endpoint.id });
    expect(() => new Webhook(other.secret).verify(first.body, headersOf(first.headers))).toThrow();

    for (const id of pollIds) {
      const mine = events.filter(
        (e) =>
          ('data' in e && (e.data as { pollId?: string; id?: string }).pollId === id) ||
          (e.type === 'poll.sent' && e.data.id === id),
      );
      expect(mine[0]?.type).toBe('poll.sent');
      const voteEvents = mine.filter(
        (e): e is WebhookEventOf<'poll.vote'> => e.type === 'poll.vote',
      );
      // In order: versions only grow; each names what it changed and the voter.
      const versions = voteEvents.map((e) => e.data.version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      for (const e of voteEvents) {
        expect(e.sessionId).toBe('default');
        expect(e.data.voter.jid ?? e.data.voter.lid).toBeTruthy();
        expect(e.data.added.length + e.data.removed.length).toBeGreaterThan(0);
      }
      const poll = server!.session.getPoll(id)!;
      expect(voteEvents.at(-1)!.data.tally).toEqual(
        countVotes(poll).map(({ name, count }) => ({ name, count })),
      );
    }
    // Each event once: a 200 is not retried.
    const ids = receiver.received.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('retries a 500 with the same webhook-id, then delivers; fails after the limit; replay sends it again', async () => {
    const { client, receiver, url } = await start({ webhookMaxAttempts: 3 });
    const endpoint = await client.webhooks.create.mutate({ url, events: ['poll.sent'] });
    expect(await countsOf(client, endpoint.id)).toEqual({ pending: 0, failed: 0, delivered: 0 });
    // The first poll.sent: 500, 500, then 200.
    receiver.answer = (_r, i) => (i < 2 ? 500 : 200);
    const [firstPoll] = await sendPolls(client, 1);
    await eventually('three attempts', () => receiver.received.length >= 3);
    expect(receiver.received.map((r) => r.answered)).toEqual([500, 500, 200]);
    // Backoff: each retry waits at least half its doubling delay (base 50 ms, jitter 50-100 %).
    const [t0, t1, t2] = receiver.received.map((r) => r.at) as [number, number, number];
    expect(t1 - t0).toBeGreaterThanOrEqual(25);
    expect(t2 - t1).toBeGreaterThanOrEqual(50);
    const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    expect(receiver.received[0]!.event).toMatchObject({
      type: 'poll.sent',
      data: { id: firstPoll },
    });
    const [delivered] = (await client.webhooks.deliveries.query({ endpointId: endpoint.id }))
      .deliveries;
    expect(delivered).toMatchObject({
      status: 'delivered',
      attempts: 3,
      lastResponseCode: 200,
      eventId: [...ids][0],
      nextAttemptAt: null,
    });

    // Now it always fails: three attempts, then `failed`, and the next event goes on.
    receiver.answer = () => 503;
    await sendPolls(client, 1);
    const failed = await eventually('the delivery to fail', async () => {
      const { deliveries } = await client.webhooks.deliveries.query({
        endpointId: endpoint.id,
        status: 'failed',
      });
      return deliveries[0];
    });
    expect(failed).toMatchObject({ attempts: 3, lastResponseCode: 503, status: 'failed' });
    expect(
      receiver.received.filter((r) => r.headers['webhook-id'] === failed.eventId),
    ).toHaveLength(3);
    expect(await countsOf(client, endpoint.id)).toEqual({ pending: 0, failed: 1, delivered: 1 });

    // Replay all failed ones: sent again with the same id, delivered.
    receiver.answer = () => 200;
    expect(await client.webhooks.replay.mutate({ endpointId: endpoint.id })).toEqual({
      requeued: 1,
    });
    await eventually('the replayed delivery', () =>
      receiver.delivered.some((r) => r.headers['webhook-id'] === failed.eventId),
    );
    const after = await client.webhooks.deliveries.query({ endpointId: endpoint.id });
    expect(after.deliveries.every((d) => d.status === 'delivered')).toBe(true);
    expect(await countsOf(client, endpoint.id)).toEqual({ pending: 0, failed: 0, delivered: 2 });

    // Attempts by outcome: 2 delivered (the first poll's, the replay), 4 retried, 1 failed.
    const outcome = (text: string, o: string) =>
      sample(text, `pollmasters_webhook_deliveries_total{session="default",outcome="${o}"}`);
    const metrics = await eventually('the attempts in /metrics', async () => {
      const text = await metricsOf(server!);
      return outcome(text, 'delivered') === 2 && text;
    });
    expect(outcome(metrics, 'retried')).toBe(4);
    expect(outcome(metrics, 'failed')).toBe(1);
  });

  it('votes are counted exactly while a receiver hangs; the outbox depth and age show it', async () => {
    const { client, receiver, url } = await start();
    receiver.answer = () => 'hang';
    const endpoint = await client.webhooks.create.mutate({ url });
    const pollIds = await sendPolls(client);
    await countedAsLedger(server!.session, probe!, pollIds);
    // One request hangs (retried with its id after the 10 s timeout, if the machine is that
    // slow); everything else waits in the outbox, in order.
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    // The list counts every one of them (each event of the polls and their votes: one delivery).
    const { deliveries } = await client.webhooks.deliveries.query({
      endpointId: endpoint.id,
      limit: 500,
    });
    expect(deliveries.length).toBeGreaterThan(1);
    expect(deliveries.length).toBeLessThan(500);
    expect(await countsOf(client, endpoint.id)).toEqual({
      pending: deliveries.length,
      failed: 0,
      delivered: 0,
    });
    const metrics = await eventually('the outbox depth in /metrics', async () => {
      const text = await metricsOf(server!);
      return sample(text, 'pollmasters_webhook_outbox_pending{session="default"}') > 1 && text;
    });
    expect(
      sample(metrics, 'pollmasters_webhook_oldest_pending_age_seconds{session="default"}'),
    ).toBeGreaterThan(0);
  });

  it('sends poll.vote.rejected with its reason, and session.status transitions without the QR', async () => {
    const { client, receiver, url } = await start();
    const endpoint = await client.webhooks.create.mutate({
      url,
      events: ['poll.vote.rejected', 'session.status'],
    });
    // A member's poll, not tracked by default: its votes are rejected as untracked_poll.
    const group = worldOf(SANDBOX).chats.find((c) => c.kind === 'group')!;
    const sent = await probe!.createPoll({
      chatId: group.id,
      creator: group.members[0]!.lid,
      name: 'Not ours',
      options: ['a', 'b'],
    });
    const rejected = await eventually('a rejection event', () =>
      receiver.delivered.find((r) => r.event.type === 'poll.vote.rejected'),
    );
    expect(rejected.event).toMatchObject({
      type: 'poll.vote.rejected',
      sessionId: 'default',
      data: { reason: 'untracked_poll', pollId: sent.id, chatId: group.id },
    });

    // Logged out: ready -> logged_out -> qr_pending, each an event, no QR in any of them.
    const qrs: string[] = [];
    server!.session.on('state', (state) => {
      if (state.qr) qrs.push(state.qr);
    });
    await client.session.logout.mutate();
    const statuses = await eventually('the status events', () => {
      const got = receiver.delivered
        .map((r) => r.event)
        .filter((e): e is WebhookEventOf<'session.status'> => e.type === 'session.status')
        .map((e) => e.data);
      return got.some((d) => d.status === 'qr_pending') && got;
    });
    expect(statuses.slice(0, 2)).toEqual([
      { status: 'logged_out', previous: 'ready' },
      { status: 'qr_pending', previous: 'logged_out' },
    ]);
    expect(qrs.length).toBeGreaterThan(0);
    for (const r of receiver.received) for (const qr of qrs) expect(r.body).not.toContain(qr);
    // Each delivered, each once (the sandbox's account scans the fresh QR: more may follow).
    await eventually('every delivery delivered', async () => {
      const { deliveries } = await client.webhooks.deliveries.query({ endpointId: endpoint.id });
      return deliveries.every((d) => d.status === 'delivered');
    });
    const ids = receiver.received.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
