import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { freshRedisPrefix, testRedisUrl } from '../../../test/helpers/services.js';
import { StreamAppender } from '../src/cluster/streamAppender.js';
import { decodeReport, encodeReport } from '../src/cluster/streamCodec.js';
import { type FollowedSession, StreamFollower } from '../src/cluster/streamFollower.js';
import { streamKeys } from '../src/cluster/streamKeys.js';
import type { EventPosition, SessionReport } from '../src/session/sessionReport.js';
import { poll, until, votes } from './clusterFixtures.js';

// Issue #22: a session's events in one Redis stream, appended by its owner, read by every node.

const space = freshRedisPrefix('cluster_stream');
const redis = new Redis(testRedisUrl);
const logger = pino({ level: process.env.DBG ? 'debug' : 'silent' });
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers.splice(0)) await close();
  await space.clear();
  redis.disconnect();
});

/** A node's session as the follower feeds it: what it was given, in order. */
const recorder = (sessionId: string) => {
  const applied: { report: SessionReport; at: EventPosition | undefined }[] = [];
  const positions: EventPosition[] = [];
  const session: FollowedSession = {
    sessionId,
    applyReport: (report, at) => applied.push({ report, at }),
    positionAt: (at) => positions.push(at),
  };
  return { session, applied, positions };
};

const follower = () => {
  const f = new StreamFollower({ redis, prefix: space.prefix, logger, blockMs: 200 });
  f.start();
  closers.push(() => f.close());
  return f;
};

describe('the stream codec', () => {
  it('carries a batch of votes exactly, small and fast', () => {
    const batch = votes('3EB0A1', 1, 10_000);
    const text = encodeReport({ type: 'votes', changes: batch });
    const back = decodeReport(text);
    expect(back).toEqual({ type: 'votes', changes: batch });

    const rounds = 20;
    const started = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) decodeReport(encodeReport({ type: 'votes', changes: batch }));
    const usPerVote = Number(process.hrtime.bigint() - started) / 1_000 / (rounds * batch.length);
    const bytesPerVote = text.length / batch.length;
    console.log(
      `stream codec: ${bytesPerVote.toFixed(0)} bytes and ${usPerVote.toFixed(2)} us per vote (encode + decode + check)`,
    );
    // The voter's JID alone is 26 characters, half the voters have a name: the rest is small.
    expect(bytesPerVote).toBeLessThan(64);
    // Generous for a busy 2-core machine; a vote object per change costs several times more.
    expect(usPerVote).toBeLessThan(10);
  });

  it('refuses what is not a report, with INVALID_MESSAGE', () => {
    expect(() => decodeReport('{')).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }));
    expect(() => decodeReport('{"type":"nope"}')).toThrow(
      expect.objectContaining({ code: 'INVALID_MESSAGE' }),
    );
    const bad = JSON.parse(encodeReport({ type: 'votes', changes: votes('p', 1, 2) }));
    bad.changes.numbers[0] = 7; // a poll index out of range
    expect(() => decodeReport(JSON.stringify(bad))).toThrow(
      expect.objectContaining({ code: 'INVALID_MESSAGE' }),
    );
  });
});

describe('the event stream', () => {
  it('gives every node the same events, in the order appended, with the same ids', async () => {
    const appender = new StreamAppender({ redis, prefix: space.prefix, sessionId: 's1' });
    const a = recorder('s1');
    const b = recorder('s1');
    follower().follow(a.session, { fromId: '0', epoch: null });
    const reports: SessionReport[] = [
      { type: 'status', status: 'ready' },
      { type: 'pollSent', poll: poll('P1') },
      { type: 'votes', changes: votes('P1', 1, 3) },
      { type: 'votes', changes: votes('P1', 4, 2) },
    ];
    // Appended without waiting for each other: the stream keeps the order they were made in.
    const appended = await Promise.all(reports.map((r) => appender.append(r)));
    expect(appended.map((x) => x.seq)).toEqual([1, 2, 3, 4]);
    expect(new Set(appended.map((x) => x.epoch)).size).toBe(1);
    // A node that comes later reads the same from the stream.
    follower().follow(b.session, { fromId: '0', epoch: null });
    await until('both nodes read 4 events', () => a.applied.length === 4 && b.applied.length === 4);
    for (const node of [a, b]) {
      expect(node.applied.map((x) => x.report)).toEqual(reports);
      expect(node.applied.map((x) => x.at)).toEqual(
        appended.map(({ epoch, seq }) => ({ epoch, seq })),
      );
      // First entry of an epoch: the node is positioned just before it.
      expect(node.positions).toEqual([{ epoch: appended[0]!.epoch, seq: 0 }]);
    }
  });

  it('carries vote batches from the owner to a node fast', async () => {
    const appender = new StreamAppender({ redis, prefix: space.prefix, sessionId: 's7' });
    const node = recorder('s7');
    follower().follow(node.session, { fromId: '0', epoch: null });
    const batches = 50;
    const size = 1_000;
    const started = process.hrtime.bigint();
    const appends: Promise<unknown>[] = [];
    for (let b = 0; b < batches; b++) {
      appends.push(appender.append({ type: 'votes', changes: votes('P7', 1 + b * size, size) }));
    }
    await Promise.all(appends);
    await until('every batch applied', () => node.applied.length === batches, 20_000);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const perSecond = (batches * size) / seconds;
    console.log(
      `stream: ${Math.round(perSecond)} votes/s appended, read and decoded (batches of ${size})`,
    );
    const last = node.applied.at(-1)!.report;
    expect(last.type === 'votes' && last.changes.at(-1)?.version).toBe(batches * size);
    // A node counts far more than a WhatsApp account receives; generous for a busy machine.
    expect(perSecond).toBeGreaterThan(20_000);
  });

  it('refuses the append of a node that does not hold the lease, and adds nothing', async () => {
    const keys = streamKeys(space.prefix, 's2');
    await redis.set(keys.lease, 'node-b');
    const a = new StreamAppender({
      redis,
      prefix: space.prefix,
      sessionId: 's2',
      nodeId: 'node-a',
    });
    await expect(a.append({ type: 'status', status: 'ready' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect(await redis.xlen(keys.stream)).toBe(0);
    const b = new StreamAppender({
      redis,
      prefix: space.prefix,
      sessionId: 's2',
      nodeId: 'node-b',
    });
    expect((await b.append({ type: 'status', status: 'ready' })).seq).toBe(1);
  });

  it('starts a new epoch when its keys were lost, and followers take it', async () => {
    const appender = new StreamAppender({ redis, prefix: space.prefix, sessionId: 's3' });
    const node = recorder('s3');
    follower().follow(node.session, { fromId: '0', epoch: null });
    const before = await appender.append({ type: 'status', status: 'disconnected' });
    await until('the first event', () => node.applied.length === 1);
    const keys = streamKeys(space.prefix, 's3');
    await redis.del(keys.seq, keys.epoch);
    const after = await appender.append({ type: 'status', status: 'ready' });
    expect(after.seq).toBe(1);
    expect(after.epoch).not.toBe(before.epoch);
    await until('the second event', () => node.applied.length === 2);
    expect(node.positions).toEqual([
      { epoch: before.epoch, seq: 0 },
      { epoch: after.epoch, seq: 0 },
    ]);
    expect(node.applied[1]!.at).toEqual({ epoch: after.epoch, seq: 1 });
  });

  it('skips an entry that is not a report, and goes on', async () => {
    const appender = new StreamAppender({ redis, prefix: space.prefix, sessionId: 's4' });
    const node = recorder('s4');
    follower().follow(node.session, { fromId: '0', epoch: null });
    const first = await appender.append({ type: 'status', status: 'disconnected' });
    await redis.xadd(
      streamKeys(space.prefix, 's4').stream,
      '*',
      'q',
      '2',
      'e',
      first.epoch,
      'd',
      '{',
    );
    await redis.set(streamKeys(space.prefix, 's4').seq, 2);
    await appender.append({ type: 'status', status: 'ready' });
    await until('two events', () => node.applied.length === 2);
    expect(node.applied.map((x) => x.at?.seq)).toEqual([1, 3]);
  });

  it('tells when seqs are missing (an append that failed half way, or entries trimmed)', async () => {
    const gaps: unknown[] = [];
    const f = new StreamFollower({
      redis,
      prefix: space.prefix,
      logger,
      blockMs: 200,
      onGap: (sessionId, missing) => {
        gaps.push({ sessionId, missing });
        return false;
      },
    });
    f.start();
    closers.push(() => f.close());
    const node = recorder('s6');
    f.follow(node.session, { fromId: '0', epoch: null });
    const appender = new StreamAppender({ redis, prefix: space.prefix, sessionId: 's6' });
    await appender.append({ type: 'status', status: 'disconnected' });
    // Two seqs taken by appends whose entries never went in.
    await redis.incrby(streamKeys(space.prefix, 's6').seq, 2);
    await appender.append({ type: 'status', status: 'ready' });
    await appender.append({ type: 'status', status: 'qr_pending' });
    await until('three events', () => node.applied.length === 3);
    expect(node.applied.map((x) => x.at?.seq)).toEqual([1, 4, 5]);
    expect(gaps).toEqual([{ sessionId: 's6', missing: { from: 2, to: 3 } }]);
  });

  it('blocks on a connection of its own, whatever the command timeout of the one it copies', async () => {
    const short = new Redis(testRedisUrl, { commandTimeout: 100 });
    closers.push(async () => short.disconnect());
    const warnings: string[] = [];
    const f = new StreamFollower({
      redis: short,
      prefix: space.prefix,
      logger: pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) }),
      blockMs: 600,
    });
    f.start();
    closers.push(() => f.close());
    const node = recorder('s5');
    f.follow(node.session, { fromId: '0', epoch: null });
    // Two reads block past the copied connection's 100 ms command timeout, then one event.
    await new Promise((r) => setTimeout(r, 1_300));
    await new StreamAppender({ redis, prefix: space.prefix, sessionId: 's5' }).append({
      type: 'status',
      status: 'ready',
    });
    await until('the event', () => node.applied.length === 1);
    expect(warnings).toEqual([]);
  });
});
