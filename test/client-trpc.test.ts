import type { Duplex } from 'node:stream';
import {
  createPollMastersClient,
  type PollEvent,
  type PollMastersClient,
} from '@pollmasters/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Received } from './helpers/pollUpdates.js';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { clientReady } from './helpers/wait.js';

/** Asks the sandbox network how many votes it has yet to cast per poll. */
const pendingVotes = (channelName: string): Promise<Record<string, number>> =>
  new Promise((resolve) => {
    const channel = new BroadcastChannel(channelName);
    const requestId = `ledger-${Math.random()}`;
    channel.onmessage = (message: MessageEvent) => {
      const data = message.data as { type?: string; requestId?: string; pending?: never };
      if (data.type === 'ledger' && data.requestId === requestId) {
        channel.close();
        resolve(data.pending ?? {});
      }
    };
    channel.postMessage({ type: 'ledger', requestId });
  });

const seqOf = (id: string) => Number(id.split('-')[1]);

let server: TestServer | undefined;
const clients: PollMastersClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server?.destroy();
  server = undefined;
});

const connect = (url: string) => {
  const client = createPollMastersClient({ url });
  clients.push(client);
  return client;
};

describe('client package against the sandbox server', () => {
  it('streams the votes of a sent poll and resumes after a dropped connection: nothing missed, nothing twice', async () => {
    server = await startTestServer({
      sandbox: { groups: 1, membersPerGroup: 16, voteDelayMs: { min: 20, max: 900 } },
    });
    const trpcSockets = new Set<Duplex>();
    server.httpServer.on('upgrade', (req, socket: Duplex) => {
      if (req.url?.startsWith('/trpc')) trpcSockets.add(socket);
    });
    const client = connect(server.url);
    await clientReady(client);
    const group = (await client.chats.list.query()).find((c) => c.isGroup);
    expect(group).toBeDefined();

    const received: Received[] = [];
    const errors: unknown[] = [];
    const sub = client.polls.updates.subscribe(
      { snapshot: false },
      { onData: (e) => received.push(e), onError: (err) => errors.push(err) },
    );
    await vi.waitFor(() => expect(received.at(0)?.data.type).toBe('synced'));

    const sent = await client.polls.send.mutate({
      chatIds: [group!.id],
      question: 'Which day?',
      options: ['Mon', 'Tue', 'Wed'],
      selectableCount: 1,
    });
    expect(sent).toMatchObject({ sent: 1, failed: 0 });
    const pollId = sent.results[0]!.pollId!;

    // Mid-stream: cut the WebSocket under the client; it reconnects and resumes by lastEventId.
    await vi.waitFor(
      () =>
        expect(received.filter((e) => e.data.type === 'votes').length).toBeGreaterThanOrEqual(2),
      { timeout: 10_000 },
    );
    const beforeDrop = received.length;
    for (const socket of trpcSockets) socket.destroy();
    await vi.waitFor(() => expect(trpcSockets.size).toBeGreaterThan(1), { timeout: 10_000 });

    // Half way through the rest: a second client picks up from the first one's last id.
    await vi.waitFor(
      async () => expect((await pendingVotes(server!.sandboxChannel))[pollId]).toBe(0),
      {
        timeout: 20_000,
        interval: 200,
      },
    );
    const final = await client.polls.get.query({ id: pollId });
    const lastVersion = (e: Received | undefined) =>
      e?.data.type === 'votes'
        ? (e.data.polls.at(-1)?.version ?? -1)
        : e?.data.type === 'pollSent'
          ? e.data.poll.version
          : -1;
    await vi.waitFor(() => expect(lastVersion(received.at(-1))).toBe(final.version), {
      timeout: 10_000,
    });
    sub.unsubscribe();
    expect(errors).toEqual([]);
    expect(received.length).toBeGreaterThan(beforeDrop);

    // Missing nothing, nothing twice: one poll, so its log seqs are consecutive.
    const ids = received.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    const seqs = ids.map(seqOf);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    const pollVotes = received.flatMap((e) => (e.data.type === 'votes' ? e.data.polls : []));
    expect(new Set(pollVotes.map((p) => p.pollId))).toEqual(new Set([pollId]));
    const versions = pollVotes.map((p) => p.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));

    // The changes replayed on the sent poll give exactly the server's state.
    const voters = new Map<string, readonly string[]>();
    for (const c of pollVotes.flatMap((p) => p.changes)) {
      if (c.selected.length === 0) voters.delete(c.voter);
      else voters.set(c.voter, c.selected);
    }
    expect(Object.fromEntries(voters)).toEqual(
      Object.fromEntries(final.voters.map((v) => [v.voter, v.selected])),
    );
    expect(pollVotes.at(-1)?.counts.map((c) => c.count)).toEqual(
      final.options.map((o) => final.voters.filter((v) => v.selected.includes(o.hash)).length),
    );

    // A new client resuming from an id in the middle gets exactly the rest.
    const middle = received[Math.floor(received.length / 2)]!;
    const other = connect(server.url);
    const rest: Received[] = [];
    const resumed = other.polls.updates.subscribe(
      { pollId, lastEventId: middle.id },
      { onData: (e) => rest.push(e) },
    );
    const expected = received.slice(received.indexOf(middle) + 1).map((e) => e.id);
    // (Votes may still arrive: the rest starts with exactly what the first client got after it.)
    await vi.waitFor(() =>
      expect(rest.slice(0, expected.length).map((e) => e.id)).toEqual(expected),
    );
    expect(new Set(rest.map((e) => e.id)).size).toBe(rest.length);
    resumed.unsubscribe();
  });

  it('maps domain errors to tRPC codes with clear messages', async () => {
    server = await startTestServer();
    const client = connect(server.url);
    await expect(client.polls.get.query({ id: 'no-such-poll' })).rejects.toMatchObject({
      message: 'poll no-such-poll not found',
      data: { code: 'NOT_FOUND', httpStatus: 404, pollmastersCode: 'NOT_FOUND' },
    });
    await expect(
      client.polls.send.mutate({ chatIds: ['1@g.us'], question: 'q', options: ['a', 'a'] }),
    ).rejects.toMatchObject({
      message: 'options: options must be unique',
      data: { code: 'BAD_REQUEST', httpStatus: 400 },
    });
  });

  it('sends the votes one batch stored for several polls as one votes event, and one poll its own part', async () => {
    server = await startTestServer({ sandbox: { autoVote: false } });
    const client = connect(server.url);
    await clientReady(client);
    const group = (await client.chats.list.query()).find((c) => c.isGroup)!;
    const send = (question: string) =>
      client.polls.send.mutate({ chatIds: [group.id], question, options: ['a', 'b'] });
    const [first, second] = [(await send('One?')).results[0]!, (await send('Two?')).results[0]!];
    const all: PollEvent[] = [];
    const one: PollEvent[] = [];
    const subs = [
      client.polls.updates.subscribe({ snapshot: false }, { onData: (e) => all.push(e.data) }),
      client.polls.updates.subscribe(
        { snapshot: false, pollId: second.pollId! },
        { onData: (e) => one.push(e.data) },
      ),
    ];
    await vi.waitFor(() => expect([all.length, one.length]).toEqual([1, 1]));
    // 20 votes on each poll, delivered to the worker in one batch: one transaction.
    const probe = new SandboxProbe(server.sandboxChannel);
    try {
      await probe.voteBurst(
        [first, second].map((r) => ({ pollId: r.pollId!, count: 20 })),
        { seed: 5, batchSize: 500 },
      );
    } finally {
      probe.close();
    }
    const polls = (events: PollEvent[]) =>
      events.flatMap((e) =>
        e.type === 'votes' ? [e.polls.map((p) => [p.pollId, p.changes.length])] : [],
      );
    await vi.waitFor(() =>
      expect(polls(all)).toEqual([
        [
          [first.pollId, 20],
          [second.pollId, 20],
        ],
      ]),
    );
    await vi.waitFor(() => expect(polls(one)).toEqual([[[second.pollId, 20]]]));
    for (const sub of subs) sub.unsubscribe();
  });
});
