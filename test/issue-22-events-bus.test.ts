import { createPollMastersClient, type PollMastersClient } from '@pollmasters/client';
import { CompatServerEvents, type Poll, toPollData } from '@pollmasters/shared';
import { optionHash } from '@pollmasters/shared/node';
import { OWN_ACCOUNT } from '@pollmasters/worker/sandbox';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EventsBus } from '../packages/api/src/cluster/eventsBus.js';
import { countedAsLedger } from './helpers/ledger.js';
import { type Received, replayedVoters } from './helpers/pollUpdates.js';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { freshRedisPrefix, testRedisUrl } from './helpers/services.js';
import { Recorder } from './helpers/socketRecorder.js';
import { clientReady } from './helpers/wait.js';

// Issue #22: two nodes share Redis. node-a owns the session `default` (its worker runs the
// sandbox); node-b does not run it: its commands go to node-a, its clients get every event from
// the session's stream, and a client resumes on either node with its last event id.

const SANDBOX = { groups: 1, membersPerGroup: 16, voteDelayMs: { min: 20, max: 900 } };
const space = freshRedisPrefix('issue_22_bus');
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
let redis: Redis;
let nodeA: TestServer;
let nodeB: TestServer;
let probe: SandboxProbe;
const clients: PollMastersClient[] = [];
const sockets: Socket[] = [];
const buses: EventsBus[] = [];

const bus = async (nodeId: string) => {
  const b = new EventsBus({ redis, prefix: space.prefix, nodeId, logger });
  buses.push(b);
  await b.start();
  return b;
};
const connect = (server: TestServer) => {
  const client = createPollMastersClient({ url: server.url });
  clients.push(client);
  return client;
};

beforeAll(async () => {
  redis = new Redis(testRedisUrl);
  [nodeA, nodeB] = await Promise.all([
    startTestServer({ sandbox: SANDBOX }),
    startTestServer({ sandbox: SANDBOX }),
  ]);
  probe = new SandboxProbe(nodeA.sandboxChannel);
  // node-a holds the lease (the lease loop's part: here set by hand); node-b does not run it.
  await nodeB.sessions.stop('default');
  await redis.set(`${space.prefix}lease:default`, 'node-a');
  const [busA, busB] = await Promise.all([bus('node-a'), bus('node-b')]);
  await busA.join(nodeA.session);
  await busA.becomeOwner(nodeA.session);
  await busB.join(nodeB.session);
  busB.becomeRemote(nodeB.session);
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await Promise.all(clients.map((c) => c.close()));
  for (const b of buses) await b.close();
  probe?.close();
  await Promise.all([nodeA?.destroy(), nodeB?.destroy()]);
  await space.clear();
  redis?.disconnect();
});

const versionsOf = (events: readonly Received[], pollId: string) =>
  events.flatMap((e) =>
    e.data.type === 'votes'
      ? e.data.polls
          .filter((p) => p.pollId === pollId)
          .flatMap((p) => p.changes.map((c) => c.version))
      : [],
  );

/**
 * A tRPC client of `node`, ready, subscribed to `polls.updates` (from `synced`), and a group
 * to send to (its chats come from the owner's worker).
 */
const subscribed = async (node: TestServer) => {
  const client = connect(node);
  await clientReady(client);
  const group = (await client.chats.list.query()).find((c) => c.isGroup);
  expect(group).toBeDefined();
  const received: Received[] = [];
  const failures: unknown[] = [];
  const sub = client.polls.updates.subscribe(
    { snapshot: false },
    { onData: (e) => received.push(e), onError: (err) => failures.push(err) },
  );
  await vi.waitFor(() => expect(received.at(0)?.data.type).toBe('synced'));
  const send = async (question: string, options: string[]) => {
    const sent = await client.polls.send.mutate({ chatIds: [group!.id], question, options });
    expect(sent).toMatchObject({ sent: 1, failed: 0 });
    return sent.results[0]!.pollId!;
  };
  return { client, received, failures, sub, send };
};

describe('two nodes on one Redis', () => {
  it('a poll sent through node-b reaches WhatsApp through node-a; node-b sees every vote', async () => {
    // Its chats and the send are forwarded to node-a's worker.
    const { client, received, failures, sub, send } = await subscribed(nodeB);
    const socket = connectSocket(nodeB.url, { transports: ['websocket'], reconnection: false });
    sockets.push(socket);
    const gui = new Recorder(socket);
    await gui.until(() => gui.names().includes('initial_poll_data'), 'initial_poll_data');

    const pollId = await send('Which node?', ['A', 'B', 'C']);
    // node-b has it as soon as the send returns (its read model got it from the stream).
    expect(nodeB.session.getPoll(pollId)?.question).toBe('Which node?');

    // The sandbox (node-a's WhatsApp) got the poll, its members voted, and node-b counts each
    // vote as its ledger says.
    const [counted] = await countedAsLedger(nodeB.session, probe, [pollId], 30_000);
    expect(counted.poll.voters.length).toBeGreaterThan(0);
    expect(nodeA.session.getPoll(pollId)).toEqual(counted.poll);

    // node-b's tRPC subscriber saw every change, once, in order.
    await vi.waitFor(
      () =>
        expect(replayedVoters(received, pollId)).toEqual(
          Object.fromEntries(counted.poll.voters.map((v) => [v.voter, v.selected])),
        ),
      { timeout: 10_000 },
    );
    const versions = versionsOf(received, pollId);
    expect(versions).toEqual(versions.map((_, i) => i + 1));
    expect(versions.at(-1)).toBe(counted.poll.version);
    expect(received.find((e) => e.data.type === 'pollSent')).toBeDefined();
    sub.unsubscribe();
    expect(failures).toEqual([]);

    // node-b's Socket.IO client got the poll and its pushes up to the counted state.
    expect(
      gui.payloads('new_poll_sent').map((p) => (p as { pollMsgId: string }).pollMsgId),
    ).toContain(pollId);
    const want = toPollData(counted.poll);
    await gui.until(() => {
      const last = gui
        .payloads('poll_update_to_gui')
        .map((p) => CompatServerEvents.poll_update_to_gui.parse(p))
        .filter((u) => u.pollMsgId === pollId)
        .at(-1);
      return (
        last &&
        JSON.stringify(last.voters) === JSON.stringify(want.voters) &&
        JSON.stringify(last.results) === JSON.stringify(want.results)
      );
    }, 'the pushed state to equal the counted one');

    // The account votes through node-b: node-a's worker casts it, node-b answers with it.
    const voted = await client.polls.vote.mutate({ pollId, options: ['B'] });
    expect(voted.vote).toMatchObject({ voter: OWN_ACCOUNT.pn, selected: [optionHash('B')] });
    const own = (poll: Poll | undefined) =>
      poll?.voters.find((v) => v.voter === OWN_ACCOUNT.pn)?.selected;
    expect(own(voted.poll)).toEqual([optionHash('B')]);
    expect(own(nodeB.session.getPoll(pollId))).toEqual([optionHash('B')]);
    const [withOwn] = await countedAsLedger(nodeB.session, probe, [pollId], 30_000);
    expect(own(withOwn.poll)).toEqual([optionHash('B')]);
  });

  it('a tRPC client that leaves node-a resumes on node-b with its last id: nothing lost, nothing twice', async () => {
    const { received: first, sub: subA, send } = await subscribed(nodeA);
    const pollId = await send('Resume where?', ['Here', 'There']);
    // Some votes on node-a, then the client goes.
    await vi.waitFor(() => expect(versionsOf(first, pollId).length).toBeGreaterThanOrEqual(3), {
      timeout: 15_000,
    });
    subA.unsubscribe();
    const lastId = first.at(-1)!.id;

    // The same client, on node-b, from its last id.
    const onB = connect(nodeB);
    const rest: Received[] = [];
    const subB = onB.polls.updates.subscribe(
      { pollId, lastEventId: lastId },
      { onData: (e) => rest.push(e) },
    );
    const [counted] = await countedAsLedger(nodeB.session, probe, [pollId], 30_000);
    const all = [...first, ...rest];
    await vi.waitFor(() => expect(versionsOf(all, pollId).at(-1)).toBe(counted.poll.version), {
      timeout: 10_000,
    });
    subB.unsubscribe();
    // No resync on node-b: it resumed (its ids are node-a's), from right after the last one.
    expect(rest.filter((e) => e.data.type === 'pollState' || e.data.type === 'synced')).toEqual([]);
    const seqOf = (id: string) => Number(id.split('-')[1]);
    expect(seqOf(rest[0]!.id)).toBeGreaterThan(seqOf(lastId));
    expect(rest[0]!.id.split('-')[0]).toBe(lastId.split('-')[0]);
    // Every change once, in order, and together exactly the counted state.
    const versions = versionsOf(all, pollId);
    expect(versions).toEqual(versions.map((_, i) => i + 1));
    expect(replayedVoters(all, pollId)).toEqual(
      Object.fromEntries(counted.poll.voters.map((v) => [v.voter, v.selected])),
    );
  });

  it('what failed to reach the stream reaches every node by the owner resyncing', {
    timeout: 60_000,
  }, async () => {
    const { received, sub, send } = await subscribed(nodeB);
    const pollId = await send('Lost and found?', ['Yes', 'No']);
    await vi.waitFor(() => expect(versionsOf(received, pollId).length).toBeGreaterThan(0), {
      timeout: 15_000,
    });
    // The stream's key turns into a string: every append fails (as with Redis unreachable)
    // while the members go on voting.
    const stream = `${space.prefix}events:default`;
    await redis.rename(stream, `${stream}:kept`);
    await redis.set(stream, 'not a stream');
    await vi.waitFor(
      async () => {
        const ledger = await probe.ledger();
        const cast = Object.keys(ledger.polls[pollId] ?? {}).length;
        expect(cast).toBeGreaterThan(nodeB.session.getPoll(pollId)!.voters.length);
      },
      { timeout: 10_000 },
    );
    await new Promise((r) => setTimeout(r, 1_200));
    await redis.del(stream);
    // Both nodes get the whole state again, and the subscriber on node-b with them.
    const [counted] = await countedAsLedger(nodeB.session, probe, [pollId], 30_000);
    expect(nodeA.session.getPoll(pollId)).toEqual(counted.poll);
    const want = Object.fromEntries(counted.poll.voters.map((v) => [v.voter, v.selected]));
    const seen = () => {
      const last = received
        .filter((e) => e.data.type === 'pollState' && e.data.poll.id === pollId)
        .at(-1);
      if (last?.data.type !== 'pollState') return null;
      const after = received.slice(received.indexOf(last) + 1);
      const state = Object.fromEntries(last.data.poll.voters.map((v) => [v.voter, v.selected]));
      return replayedVoters(after, pollId, state);
    };
    await vi.waitFor(() => expect(seen()).toEqual(want), { timeout: 10_000 });
    sub.unsubscribe();
  });
});
