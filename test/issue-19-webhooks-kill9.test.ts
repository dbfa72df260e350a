import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPollMastersClient, listAllPolls, type PollMastersClient } from '@pollmasters/client';
import type { WebhookDelivery, WebhookEventOf } from '@pollmasters/shared';
import { afterEach, expect, it } from 'vitest';
import { type ChildServer, spawnServer } from './helpers/childServer.js';
import { clientReady, eventually } from './helpers/wait.js';
import { WebhookReceiver } from './helpers/webhookReceiver.js';

// Issue #19: at least once, in order, across a crash. The server is killed with SIGKILL while
// a delivery is in flight; started again, it delivers every stored event, in order, the
// duplicates with the id they had.

const dataDir = mkdtempSync(join(tmpdir(), 'pollmasters-hooks-kill9-'));
const children: ChildServer[] = [];
const clients: PollMastersClient[] = [];
const receiver = new WebhookReceiver();
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const child of children.splice(0)) {
    child.proc.kill('SIGKILL');
    await child.exited;
  }
  await receiver.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const start = async () => {
  const args = ['--sandbox', '--groups', '2', '--members', '30', '--send-delay-ms', '0'];
  const child = await spawnServer([...args, '--data-dir', dataDir], {
    LOG_LEVEL: 'warn',
    POLLMASTERS_WEBHOOK_ALLOW: '127.0.0.1',
    POLLMASTERS_WEBHOOK_RETRY_BASE_MS: '50',
  });
  children.push(child);
  const client = createPollMastersClient({ url: child.url });
  clients.push(client);
  await clientReady(client);
  return { child, client };
};

/** Every delivery of an endpoint, oldest first (the list pages newest first). */
const allDeliveries = async (client: PollMastersClient, endpointId: string) => {
  const all: WebhookDelivery[] = [];
  let before: number | undefined;
  for (;;) {
    const { deliveries } = await client.webhooks.deliveries.query({
      endpointId,
      limit: 500,
      ...(before ? { before } : {}),
    });
    all.push(...deliveries);
    if (deliveries.length < 500) return all.reverse();
    before = deliveries.at(-1)!.id;
  }
};

it('SIGKILL mid-delivery: after a restart every event arrives, in order, duplicates only with the same id', async () => {
  const url = await receiver.start();
  // The 15th request hangs: the server is killed while it is in flight.
  let hung: string | undefined;
  receiver.answer = (r, i) => {
    if (i !== 14) return 200;
    hung = String(r.headers['webhook-id']);
    return 'hang';
  };
  const first = await start();
  const endpoint = await first.client.webhooks.create.mutate({
    url,
    events: ['poll.sent', 'poll.vote'],
  });
  const groups = (await first.client.chats.list.query()).filter((c) => c.isGroup);
  const sent = await first.client.polls.send.mutate({
    chatIds: groups.map((g) => g.id),
    question: 'Delivered after kill -9?',
    options: ['yes', 'no', 'maybe'],
  });
  const pollIds = sent.results.map((r) => r.pollId!);
  await eventually('a delivery in flight', () => hung !== undefined, 30_000);
  first.child.proc.kill('SIGKILL');
  await first.child.exited;
  const beforeKill = receiver.received.length;

  receiver.answer = () => 200;
  const second = await start();
  // Settled: the network delivered what it held, and nothing waits in the outbox.
  const deliveries = await eventually(
    'every vote counted and every event delivered',
    async () => {
      const ledger = (await (await fetch(`${second.child.url}/sandbox/ledger`)).json()) as {
        pending: Record<string, number>;
      };
      if (!pollIds.every((id) => ledger.pending[id] === 0)) return false;
      const all = await allDeliveries(second.client, endpoint.id);
      return all.every((d) => d.status === 'delivered') && all;
    },
    60_000,
    200,
  );

  // The request in flight at the kill was sent again after the restart, with its id.
  expect(receiver.received.slice(beforeKill).some((r) => r.headers['webhook-id'] === hung)).toBe(
    true,
  );
  // None missing: every stored event reached the receiver with a 2xx.
  const deliveredIds = new Set(receiver.delivered.map((r) => String(r.headers['webhook-id'])));
  for (const d of deliveries) expect(deliveredIds.has(d.eventId), d.eventId).toBe(true);
  // In order: the first arrival of each id follows the outbox order.
  const order = new Map(deliveries.map((d, i) => [d.eventId, i]));
  const firstArrivals: number[] = [];
  const seen = new Set<string>();
  for (const r of receiver.received) {
    const id = String(r.headers['webhook-id']);
    if (seen.has(id)) continue;
    seen.add(id);
    firstArrivals.push(order.get(id)!);
  }
  expect(firstArrivals).toEqual([...firstArrivals].sort((a, b) => a - b));
  expect(firstArrivals).toHaveLength(deliveries.length);
  // Duplicates only with the same id: one id, one body; one body, one id.
  const bodyOf = new Map<string, string>();
  const idOf = new Map<string, string>();
  for (const r of receiver.received) {
    const id = String(r.headers['webhook-id']);
    expect(bodyOf.get(id) ?? r.body).toBe(r.body);
    expect(idOf.get(r.body) ?? id).toBe(id);
    bodyOf.set(id, r.body);
    idOf.set(r.body, id);
  }

  // And the events tell the whole story: replaying them gives every voter's final selection.
  const polls = await listAllPolls(second.client);
  for (const id of pollIds) {
    // A person is one LID (or, without one, one phone number), whichever id names them now.
    const replayed = new Map<string, { id: string; hashes: string[] }>();
    for (const body of bodyOf.values()) {
      const event = JSON.parse(body) as WebhookEventOf<'poll.vote'>;
      if (event.type !== 'poll.vote' || event.data.pollId !== id) continue;
      const { voter, selected } = event.data;
      replayed.set(voter.lid ?? voter.id, { id: voter.id, hashes: selected.map((o) => o.hash) });
    }
    const poll = polls.find((p) => p.id === id)!;
    const expected = Object.fromEntries(poll.voters.map((v) => [v.voter, [...v.selected]]));
    const got = Object.fromEntries(
      [...replayed.values()].filter((v) => v.hashes.length > 0).map((v) => [v.id, v.hashes]),
    );
    expect(got).toEqual(expected);
  }
}, 120_000);
