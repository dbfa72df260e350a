import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { freshRedisPrefix, testRedisUrl } from '../../../test/helpers/services.js';
import { EventsBus } from '../src/cluster/eventsBus.js';
import { StreamAppender } from '../src/cluster/streamAppender.js';
import { callsChannelOf, streamKeys } from '../src/cluster/streamKeys.js';
import { openSessionStreams } from '../src/trpc/sessionStreams.js';
import { eventsAfter, poll, until, votes, workerlessSession } from './clusterFixtures.js';

// Issue #22: nodes that follow a session's stream give the same tRPC ids for the same events,
// a node that joins late copies the owner's read model, and commands reach the owner.

const space = freshRedisPrefix('cluster_bus');
const redis = new Redis(testRedisUrl);
const logger = pino({ level: 'silent' });
const closers: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await space.clear();
  redis.disconnect();
});

const bus = async (nodeId: string, callTimeoutMs?: number) => {
  const b = new EventsBus({
    redis,
    prefix: space.prefix,
    nodeId,
    logger,
    ...(callTimeoutMs ? { callTimeoutMs } : {}),
  });
  await b.start();
  closers.push(() => b.close());
  return b;
};

describe('the events bus', () => {
  it('gives every node the same events with the same ids; a late node copies the owner', async () => {
    const keys = streamKeys(space.prefix, 'e1');
    await redis.set(keys.lease, 'node-a');
    const [busA, busB] = await Promise.all([bus('node-a'), bus('node-b')]);
    const a = workerlessSession(logger, 'e1');
    await busA.join(a);
    await busA.becomeOwner(a);
    const streamsA = openSessionStreams(a, 0);
    closers.push(() => streamsA.close());
    // What node-a's worker would report, appended as its bus does.
    const owner = new StreamAppender({
      redis,
      prefix: space.prefix,
      sessionId: 'e1',
      nodeId: 'node-a',
    });
    await owner.append({ type: 'status', status: 'ready' });
    await owner.append({ type: 'pollSent', poll: poll('P1') });
    await owner.append({ type: 'votes', changes: votes('P1', 1, 3) });
    await until('node-a counted 3 votes', () => a.getPoll('P1')?.voters.length === 3);
    expect(a.sessionState.status).toBe('ready');
    const [, sent, firstVotes] = [
      null,
      ...streamsA.log.after({ epoch: streamsA.log.epoch, seq: 0 })!,
    ];
    expect(sent!.seq).toBe(2);
    expect(firstVotes!.seq).toBe(3);

    // node-b joins late: its read model is node-a's, and it follows the stream from there.
    const b = workerlessSession(logger, 'e1');
    await busB.join(b);
    busB.becomeRemote(b);
    const streamsB = openSessionStreams(b, 0);
    closers.push(() => streamsB.close());
    expect(b.getPoll('P1')).toEqual(a.getPoll('P1'));
    expect(b.sessionState).toEqual(a.sessionState);
    expect(streamsB.log.epoch).toBe(streamsA.log.epoch);

    await owner.append({ type: 'votes', changes: votes('P1', 4, 2) });
    await owner.append({ type: 'pollSent', poll: poll('P2') });
    await owner.append({ type: 'votes', changes: [...votes('P1', 6, 1), ...votes('P2', 1, 2)] });
    await until('both saw every vote', () =>
      [a, b].every(
        (s) => s.getPoll('P1')?.voters.length === 6 && s.getPoll('P2')?.voters.length === 2,
      ),
    );
    expect(b.getPoll('P1')).toEqual(a.getPoll('P1'));
    expect(b.getPoll('P2')).toEqual(a.getPoll('P2'));

    // A client that read up to node-a's first votes resumes on node-b: exactly what came after.
    const lastSeen = streamsA.log.idOf(firstVotes!.seq);
    const onA = eventsAfter(streamsA.log, lastSeen)!;
    expect(onA.map((e) => e.id)).toEqual([4, 5, 6].map((n) => `${streamsA.log.epoch}-${n}`));
    expect(eventsAfter(streamsB.log, lastSeen)).toEqual(onA);
    // An id from before node-b joined: node-b cannot give what came after it, so a resync.
    expect(eventsAfter(streamsB.log, streamsA.log.idOf(sent!.seq))).toBeNull();
    // The session feed's ids agree too.
    await owner.append({ type: 'status', status: 'disconnected' });
    await until('both disconnected', () =>
      [a, b].every((s) => s.sessionState.status === 'disconnected'),
    );
    expect(streamsB.sessionFeed.latest).toEqual(streamsA.sessionFeed.latest);
    expect(streamsA.sessionFeed.latest.id).toBe(`${streamsA.log.epoch}-s7`);
  });

  it('forwards commands to the owner and brings back its errors; clear errors without one', async () => {
    const keys = streamKeys(space.prefix, 'c1');
    await redis.set(keys.lease, 'node-c');
    const [busC, busD] = await Promise.all([bus('node-c'), bus('node-d', 400)]);
    const c = workerlessSession(logger, 'c1');
    const d = workerlessSession(logger, 'c1');
    await busC.join(c);
    await busC.becomeOwner(c);
    await busD.join(d);
    busD.becomeRemote(d);

    // The owner ran it: its session is not started, and says so.
    await expect(d.listChats()).rejects.toMatchObject({
      code: 'WORKER_GONE',
      message: 'the session is stopped',
    });
    // The owner checks what it is sent; bad input changes nothing.
    await expect(
      d.sendPoll({ chatId: 'not a chat', question: 'Q?', options: ['a', 'b'], selectableCount: 1 }),
    ).rejects.toMatchObject({ code: 'BAD_INPUT' });

    // No node holds the session.
    await redis.del(keys.lease);
    await expect(d.listChats()).rejects.toMatchObject({
      code: 'WORKER_GONE',
      message: expect.stringMatching(/no node serves session c1/),
    });
    // A node holds it that no longer listens (it died before its lease ran out).
    await redis.set(keys.lease, 'node-gone');
    await expect(d.listChats()).rejects.toMatchObject({
      code: 'WORKER_GONE',
      message: expect.stringMatching(/owner \(node node-gone\) is not reachable/),
    });
    // A node holds it that listens and never answers: the caller's timeout.
    const silent = redis.duplicate();
    closers.push(() => silent.disconnect());
    await silent.subscribe(callsChannelOf(space.prefix, 'node-silent'));
    await redis.set(keys.lease, 'node-silent');
    await expect(d.listChats()).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringMatching(/owner \(node node-silent\) did not answer within 400 ms/),
    });

    // Ownership moves to node-d: node-c forwards to it now, and node-d runs them.
    await redis.set(keys.lease, 'node-d');
    await busD.becomeOwner(d);
    busC.becomeRemote(c);
    await expect(c.listChats()).rejects.toMatchObject({
      code: 'WORKER_GONE',
      message: 'the session is stopped',
    });
    // The lease goes back to node-c before it took the session over: neither node runs a
    // command it does not own, and both say why.
    await redis.set(keys.lease, 'node-c');
    busD.becomeRemote(d);
    await expect(d.requestPairingCode('15550001111')).rejects.toMatchObject({
      code: 'WORKER_GONE',
      message: expect.stringMatching(/node node-c does not own session c1/),
    });
    await expect(c.listChats()).rejects.toMatchObject({
      code: 'WORKER_GONE',
      message: expect.stringMatching(/session c1 is starting on this node/),
    });
  });
});
