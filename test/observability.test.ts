import { createPollMastersClient, type PollMastersClient } from '@pollmasters/client';
import type { Poll } from '@pollmasters/shared';
import { createSandbox, type LedgerVote } from '@pollmasters/worker/sandbox';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { metricsOf, sample } from './helpers/metrics.js';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { eventually, sessionStatus, until } from './helpers/wait.js';

// Issue 6: /healthz, /metrics after known votes, and the export of one poll (HTTP and tRPC).

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sandboxOptions = { seed: 11, autoVote: false, groups: 1, membersPerGroup: 4 };

const start = async () => {
  const server = await startTestServer({ sandbox: sandboxOptions });
  cleanups.push(() => server.destroy());
  const probe = new SandboxProbe(server.sandboxChannel);
  cleanups.push(() => probe.close());
  await sessionStatus(server.session, 'ready', 15_000);
  return { server, probe };
};

/** Sends a poll with awkward texts to the sandbox's LID group and casts known votes on it. */
const pollWithKnownVotes = async (server: TestServer, probe: SandboxProbe) => {
  // The same options give the same world: the test knows every member's name.
  const world = createSandbox({ ...sandboxOptions, channelName: `world-${Math.random()}` });
  world.close();
  const chat = world.world.chats.find((c) => c.kind === 'group' && c.addressingMode === 'lid')!;
  const options = ['=1+1', 'Pizza, large', 'Soup "hot"'];
  const poll = await server.session.sendPoll({
    chatId: chat.id,
    question: 'Lunch, today?',
    options,
    selectableCount: 0,
  });
  const [a, b, c] = chat.members;
  const casts: LedgerVote[] = [];
  casts.push(await probe.vote(poll.id, a!.pn, ['=1+1']));
  casts.push(await probe.vote(poll.id, b!.lid, ['Pizza, large', 'Soup "hot"']));
  casts.push(await probe.vote(poll.id, c!.pn, ['Pizza, large']));
  casts.push(await probe.vote(poll.id, c!.pn, ['=1+1'])); // changed
  const counted = await until(
    server.session,
    'pollsUpdated',
    () => {
      const p = server.session.getPoll(poll.id);
      return p && p.version >= poll.version + 4 ? p : undefined;
    },
    'the four votes',
    15_000,
  );
  const nameOf = (voterId: string) =>
    world.world.people.find((p) => p.pn === voterId || p.lid === voterId)?.name;
  return { poll: counted, casts, nameOf };
};

describe('/healthz and /metrics', () => {
  it('count known votes, sends, and connected Socket.IO and tRPC clients', async () => {
    const { server, probe } = await start();
    const before = await metricsOf(server);
    expect(sample(before, 'pollmasters_votes_accepted_total{session="default"}')).toBe(0);
    expect(sample(before, 'pollmasters_connection_state{session="default",status="ready"}')).toBe(
      1,
    );
    expect(
      sample(before, 'pollmasters_connection_state{session="default",status="qr_pending"}'),
    ).toBe(0);

    const { poll } = await pollWithKnownVotes(server, probe);
    expect(poll.voters).toHaveLength(3);
    const after = await metricsOf(server);
    expect(sample(after, 'pollmasters_votes_accepted_total{session="default"}')).toBe(4);
    expect(sample(after, 'pollmasters_polls_sent_total{session="default"}')).toBe(1);
    expect(sample(after, 'pollmasters_polls{session="default"}')).toBe(1);
    expect(sample(after, 'pollmasters_send_failures_total{session="default"}')).toBe(0);
    expect(sample(after, 'pollmasters_worker_restarts_total{session="default"}')).toBe(0);
    for (const reason of ['unknown_poll', 'no_secret', 'no_pair_authenticates', 'stale'])
      expect(
        sample(after, `pollmasters_votes_rejected_total{session="default",reason="${reason}"}`),
      ).toBe(0);
    expect(sample(after, 'pollmasters_worker_state{session="default",state="running"}')).toBe(1);
    // The worker did work (start, login, decrypting four votes): its busy time grew.
    const busy = sample(after, 'pollmasters_worker_busy_seconds{worker="0"}');
    expect(busy).toBeGreaterThan(0);
    expect(busy).toBeGreaterThan(sample(before, 'pollmasters_worker_busy_seconds{worker="0"}'));

    // A send to a chat the account does not have is the caller's mistake, not a failure of
    // WhatsApp or the server: it is not counted (issue #16 review).
    const send = () =>
      server.session.sendPoll({
        chatId: '1@g.us',
        question: 'x',
        options: ['a', 'b'],
        selectableCount: 1,
      });
    await expect(send()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(
      sample(await metricsOf(server), 'pollmasters_send_failures_total{session="default"}'),
    ).toBe(0);

    // Clients: one Socket.IO client and one tRPC subscription.
    const socket: Socket = connectSocket(server.url, { transports: ['websocket'] });
    cleanups.push(() => socket.close());
    const client: PollMastersClient = createPollMastersClient({ url: server.url });
    cleanups.push(() => client.close());
    const sub = client.polls.updates.subscribe({}, { onError: () => {} });
    cleanups.push(() => sub.unsubscribe());
    const connected = await eventually('both clients counted', async () => {
      const text = await metricsOf(server);
      return sample(text, 'pollmasters_socketio_clients') === 1 &&
        sample(text, 'pollmasters_trpc_clients') === 1
        ? text
        : undefined;
    });
    expect(connected).toContain('# TYPE pollmasters_votes_accepted_total counter');

    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: 'ok',
      whatsapp: 'ready',
      workerState: 'running',
      restarts: 0,
      polls: 1,
      clients: { socketIo: 1, trpc: 1 },
    });
    expect(typeof body.uptime).toBe('number');

    // A killed worker: /healthz says so until the supervisor has it back, and it is counted.
    await server.session.killWorker();
    // A send meanwhile fails on the server's side: that one is counted.
    await expect(send()).rejects.toMatchObject({ code: 'WORKER_GONE' });
    expect(
      sample(await metricsOf(server), 'pollmasters_send_failures_total{session="default"}'),
    ).toBe(1);
    await eventually('the restart', () => server.session.workerState === 'running');
    const healed = (await (await fetch(`${server.url}/healthz`)).json()) as { restarts: number };
    expect(healed.restarts).toBe(1);
    expect(
      sample(await metricsOf(server), 'pollmasters_worker_restarts_total{session="default"}'),
    ).toBe(1);
  });

  it('keep one registry per server: two servers in one process count apart', async () => {
    const one = await start();
    const two = await start();
    await pollWithKnownVotes(one.server, one.probe);
    expect(
      sample(await metricsOf(one.server), 'pollmasters_votes_accepted_total{session="default"}'),
    ).toBe(4);
    expect(
      sample(await metricsOf(two.server), 'pollmasters_votes_accepted_total{session="default"}'),
    ).toBe(0);
  });
});

describe('poll export', () => {
  it('downloads CSV and JSON with counts, selections, names and escaping; tRPC gives the same', async () => {
    const { server, probe } = await start();
    const { poll, casts, nameOf } = await pollWithKnownVotes(server, probe);
    const last = new Map(casts.map((c) => [c.voterId, c]));
    const rows = [...last.values()]
      .sort((x, y) => (x.voterId < y.voterId ? -1 : 1))
      .map((c) => {
        const chosen = ['=1+1', 'Pizza, large', 'Soup "hot"'].map((o) =>
          c.selectedOptions.includes(o) ? 1 : 0,
        );
        const name = nameOf(c.voterId);
        expect(name).toBeTruthy();
        const votedAt = new Date(c.senderTimestampMs).toISOString();
        return `${c.voterId},${name},${votedAt},${chosen.join(',')}\r\n`;
      });
    const expectedCsv = `\uFEFFvoter,name,voted_at,'=1+1,"Pizza, large","Soup ""hot"""\r\n${rows.join('')}TOTAL,,,2,1,1\r\n`;

    const csv = await fetch(`${server.url}/polls/${poll.id}/export.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename=poll-${poll.id}.csv`);
    expect(Buffer.from(await csv.arrayBuffer()).toString('utf8')).toBe(expectedCsv);

    const json = await fetch(`${server.url}/polls/${poll.id}/export.json`);
    expect(json.status).toBe(200);
    expect(json.headers.get('content-disposition')).toBe(
      `attachment; filename=poll-${poll.id}.json`,
    );
    const doc = (await json.json()) as { options: unknown; voters: unknown };
    expect(doc.options).toEqual([
      { name: '=1+1', hash: poll.options[0]!.hash, count: 2 },
      { name: 'Pizza, large', hash: poll.options[1]!.hash, count: 1 },
      { name: 'Soup "hot"', hash: poll.options[2]!.hash, count: 1 },
    ]);
    expect(doc.voters).toEqual(
      [...last.values()]
        .sort((x, y) => (x.voterId < y.voterId ? -1 : 1))
        .map((c) => ({
          voter: c.voterId,
          name: nameOf(c.voterId),
          selected: c.selectedOptions,
          votedAt: new Date(c.senderTimestampMs).toISOString(),
        })),
    );

    const client = createPollMastersClient({ url: server.url });
    cleanups.push(() => client.close());
    const viaTrpc = await client.polls.export.query({ id: poll.id, format: 'csv' });
    expect(viaTrpc).toEqual({
      filename: `poll-${poll.id}.csv`,
      contentType: 'text/csv; charset=utf-8',
      body: expectedCsv,
    });
    await expect(client.polls.export.query({ id: 'nope', format: 'json' })).rejects.toThrow(
      /not found/,
    );
    const missing = await fetch(`${server.url}/polls/nope/export.csv`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ success: false, message: 'poll nope not found' });
  });
});

export type { Poll };
