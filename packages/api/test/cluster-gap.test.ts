import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { type Received, replayInOrder } from '../../../test/helpers/pollUpdates.js';
import { freshRedisPrefix, testRedisUrl } from '../../../test/helpers/services.js';
import { EventsBus } from '../src/cluster/eventsBus.js';
import { StreamAppender } from '../src/cluster/streamAppender.js';
import { streamKeys } from '../src/cluster/streamKeys.js';
import type { SessionService } from '../src/session/sessionService.js';
import { PollEventLog } from '../src/trpc/eventLog.js';
import { pollUpdates } from '../src/trpc/pollUpdates.js';
import { openSessionStreams } from '../src/trpc/sessionStreams.js';
import { eventsAfter, poll, until, votes, workerlessSession } from './clusterFixtures.js';
import { RedisCutter } from './redisCutter.js';

// A follower that finds entries missing from a session's stream (trimmed before it read them)
// takes the owner's state of the polls concerned in their place, and its live subscribers get
// them as a resync: every change counted once, the same answer on every node.

const space = freshRedisPrefix('cluster_gap');
const redis = new Redis(testRedisUrl);
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const closers: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await space.clear();
  redis.disconnect();
});

const bus = async (nodeId: string, connection: Redis) => {
  const b = new EventsBus({ redis: connection, prefix: space.prefix, nodeId, logger });
  await b.start();
  closers.push(() => b.close());
  return b;
};

/**
 * A live `polls.updates` subscriber of a node's log: what it is sent, and the error that ended
 * it, if one did (a stop ends it without one).
 */
const subscribe = (streams: ReturnType<typeof openSessionStreams>, lastEventId?: string) => {
  const stop = new AbortController();
  const sub = { received: [] as Received[], failure: null as Error | null };
  const done = (async () => {
    for await (const { id, event } of pollUpdates({
      log: streams.log,
      polls: streams.session,
      lastEventId,
      signal: stop.signal,
    })) {
      sub.received.push({ id, data: event });
    }
  })().catch((err: Error) => {
    sub.failure = err;
  });
  closers.push(() => {
    stop.abort();
    return done;
  });
  return sub;
};

/** Waits until `check` holds of what `sub` received; fails at once with its error if it ended. */
const received = (
  sub: ReturnType<typeof subscribe>,
  what: string,
  check: (events: Received[]) => boolean,
) =>
  until(what, () => {
    if (sub.failure) throw new Error(`the subscriber failed: ${sub.failure.message}`);
    return check(sub.received);
  });

const voterCount = (s: SessionService, pollId: string) => s.getPoll(pollId)?.voters.length ?? 0;

describe('a gap in a session stream on a follower', () => {
  it('replaces the polls concerned with the owner’s and resyncs its live subscribers', async () => {
    const keys = streamKeys(space.prefix, 'g1');
    await redis.set(keys.lease, 'node-a');
    const cutter = await RedisCutter.start(testRedisUrl);
    closers.push(() => cutter.close());
    const redisB = new Redis(cutter.url);
    redisB.on('error', () => {});
    closers.push(() => redisB.disconnect());
    const [busA, busB] = await Promise.all([bus('node-a', redis), bus('node-b', redisB)]);
    const a = workerlessSession(logger, 'g1');
    await busA.join(a);
    await busA.becomeOwner(a);
    const streamsA = openSessionStreams(a, 0);
    closers.push(() => streamsA.close());
    const owner = new StreamAppender({ redis, prefix: space.prefix, sessionId: 'g1' });
    await owner.append({ type: 'status', status: 'ready' });
    await owner.append({ type: 'pollSent', poll: poll('P1') });
    await owner.append({ type: 'pollSent', poll: poll('P2') });
    await owner.append({ type: 'votes', changes: [...votes('P1', 1, 3), ...votes('P2', 1, 2)] });
    await until('node-a counted them', () => voterCount(a, 'P1') === 3);

    const b = workerlessSession(logger, 'g1');
    await busB.join(b);
    busB.becomeRemote(b);
    const streamsB = openSessionStreams(b, 0);
    closers.push(() => streamsB.close());
    const sub = subscribe(streamsB);
    const live = sub.received;
    await owner.append({ type: 'votes', changes: votes('P1', 4, 2) });
    await until('node-b counted 5', () => voterCount(b, 'P1') === 5);
    const beforeGap = live.at(-1)!.id;

    // node-b loses Redis for a while; meanwhile votes 6-7 are appended, read by node-a, and
    // trimmed from the stream before node-b could read them; then votes 8-9.
    cutter.cutOff();
    const lost = await owner.append({ type: 'votes', changes: votes('P1', 6, 2) });
    await until('node-a counted 7', () => voterCount(a, 'P1') === 7);
    await redis.xdel(keys.stream, lost.id);
    await owner.append({ type: 'votes', changes: votes('P1', 8, 2) });
    await until('node-a counted 9', () => voterCount(a, 'P1') === 9);
    expect(voterCount(b, 'P1')).toBe(5);
    cutter.restore();

    // node-b's read model becomes node-a's: every voter, none twice. (A copy whose reply came
    // while node-b's subscriber was still reconnecting is lost: it is asked again after 5 s.)
    await until('node-b has node-a’s P1', () => b.getPoll('P1')?.version === 9, 15_000);
    expect(b.getPoll('P1')).toEqual(a.getPoll('P1'));
    expect(b.getPoll('P2')).toEqual(a.getPoll('P2'));

    // Its live subscriber got the missing changes as a resync of P1 alone (P2 lost nothing),
    // then `synced`, at an id of the stream after the gap; replayed, it is node-a's state.
    await received(sub, 'the subscriber synced', (l) => l.at(-1)?.data.type === 'synced');
    const afterGap = live.slice(live.findIndex((e) => e.id === beforeGap) + 1);
    expect(afterGap.map((e) => e.data.type)).toEqual(['pollState', 'synced']);
    const synced = live.at(-1)!.id;
    const at = PollEventLog.parseId(synced)!;
    expect(at).toMatchObject({ epoch: streamsA.log.epoch });
    expect(at.seq).toBeGreaterThanOrEqual(lost.seq + 1);
    expect(afterGap[0]!.id).toBe(`${synced}-r0`);

    // Later votes reach both; a client resumes on either node from any id it got from node-b.
    await owner.append({ type: 'votes', changes: votes('P1', 10, 1) });
    await until('both counted 10', () => [a, b].every((s) => voterCount(s, 'P1') === 10));
    await received(sub, 'the subscriber has v10', (l) => l.at(-1)?.data.type === 'votes');
    const want = new Map(a.getPoll('P1')!.voters.map((v) => [v.voter, v.selected]));
    expect(replayInOrder(live).get('P1')).toEqual({ version: 10, voters: want });
    for (const log of [streamsA.log, streamsB.log]) {
      for (const id of [beforeGap, synced]) {
        const upTo = live.slice(0, live.findIndex((e) => e.id === id) + 1);
        const rest = eventsAfter(log, id);
        expect(rest, `${id} on ${log === streamsA.log ? 'node-a' : 'node-b'}`).not.toBeNull();
        const resumed = [...upTo, ...rest!];
        expect(replayInOrder(resumed).get('P1')).toEqual({ version: 10, voters: want });
      }
    }
    expect(sub.failure).toBeNull();
  }, 30_000);
});
