import type { Socket as NetSocket } from 'node:net';
import type { Poll } from '@pollmasters/shared';
import { optionHash } from '@pollmasters/shared/node';
import { afterEach, expect, it } from 'vitest';
import { BUSY_BYTES } from '../src/compat/guiPushes.js';
import { bufferedBytes } from '../src/compat/slowClients.js';
import { pollUpdateOf } from '../src/session/readModel.js';
import { startCompatServer } from './compatServer.js';
import { FakeSession, USER } from './fakeSession.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Poll `n` at a version: 600 + version voters (so a state shows its version), ~100 KB. */
const bigPoll = (n: number, version: number): Poll => {
  const options = ['yes', 'no'].map((name) => ({ name, hash: optionHash(name) }));
  return {
    id: `3EB0BIG${n}`,
    chatId: '120363000000000001@g.us',
    creator: { jid: '15550000001@s.whatsapp.net', fromMe: true },
    question: `Big ${n}?`,
    options,
    selectableCount: 0,
    createdAt: 1,
    voters: Array.from({ length: 600 + version }, (_, i) => ({
      voter: `1555${String(i).padStart(7, '0')}@s.whatsapp.net`,
      selected: [options[(i + version) % 2]!.hash],
      timestampMs: version,
    })),
    unknownOptionVotes: 0,
    version,
  };
};

type Update = { pollMsgId: string; results: Record<string, number> };
/** The version a state shows: its voter count minus 600. */
const versionOf = (u: Update) => (u.results.yes ?? 0) + (u.results.no ?? 0) - 600;

/** A ready session's compat server with a push budget that does not bind. */
const pushingServer = async (coalesceMs: number, maxBufferedBytes: number) => {
  const session = new FakeSession({ status: 'ready', qr: null, user: USER });
  const server = await startCompatServer(session, {
    coalesceMs,
    pushBytesPerSec: 1e12,
    maxBufferedBytes,
  });
  cleanups.push(server.close);
  return { session, server };
};

it('skips a client that is not reading (bounded: queued or unread), then gives it the newest state of every poll', async () => {
  // Coalescing on (10 ms), a bound far above one state.
  const { session, server } = await pushingServer(10, 4 * 1024 * 1024);
  const client = async () => {
    const got: Update[] = [];
    const socket = await server.client('initial_poll_data', (s) =>
      s.on('poll_update_to_gui', (u: Update) => got.push(u)),
    );
    return { socket, got };
  };
  const healthy = await client();
  const slow = await client();
  const engine = slow.socket.io.engine as unknown as { transport: { ws: { _socket: NetSocket } } };
  const slowTcp = engine.transport.ws._socket;
  slowTcp.pause();
  cleanups.push(() => {
    slowTcp.destroy();
  });
  const serverSlow = [...server.io.of('/').sockets.values()].find((s) => s.id === slow.socket.id)!;
  const buffer = () =>
    bufferedBytes(
      (serverSlow.conn as unknown as { writeBuffer: { data?: unknown }[] }).writeBuffer,
    );
  // What was written for it in all: the kernel takes megabytes of it before any write waits.
  let sentToSlow = 0;
  serverSlow.conn.on('packetCreate', (packet: { type: string; data?: unknown }) => {
    if (packet.type === 'message' && typeof packet.data === 'string') {
      sentToSlow += packet.data.length;
    }
  });

  // 3 polls, 150 versions each, about 45 MB of full states in all.
  let peak = 0;
  const last = new Map<string, Poll>();
  for (let version = 1; version <= 150; version++) {
    for (let n = 0; n < 3; n++) {
      const poll = bigPoll(n, version);
      last.set(poll.id, poll);
      session.emit('pollsUpdated', [pollUpdateOf(poll)]);
    }
    await new Promise<void>((r) => setTimeout(r, 2));
    peak = Math.max(peak, buffer());
  }
  // It stops being sent to once BUSY_BYTES are sent and not read (its pong to the ping after
  // them has not come), wherever they wait: queued, in the kernel's buffers, or in the client's.
  // So its heartbeat never waits behind more than that and a state or two.
  expect(sentToSlow).toBeGreaterThan(0);
  expect(sentToSlow).toBeLessThan(BUSY_BYTES + 300 * 1024);
  expect(peak).toBeLessThan(BUSY_BYTES + 300 * 1024);
  expect(serverSlow.connected).toBe(true);

  const until = async (what: string, ok: () => boolean) => {
    const deadline = Date.now() + 10_000;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const hasNewest = (got: Update[]) =>
    [...last.keys()].every((id) => got.some((u) => u.pollMsgId === id && versionOf(u) === 150));
  // The healthy client kept up and ends with the newest state of every poll.
  await until('healthy client has the newest states', () => hasNewest(healthy.got));
  expect(healthy.got.length).toBeGreaterThan(30);

  // The slow client reads again: it catches up with the newest state of each poll.
  slowTcp.resume();
  await until('slow client caught up', () => hasNewest(slow.got));
  // It was skipped, not queued: fewer states than the healthy client got.
  expect(slow.got.length).toBeLessThan(healthy.got.length);
  // Neither ever saw an older state of a poll after a newer one.
  for (const got of [healthy.got, slow.got]) {
    for (const id of last.keys()) {
      const versions = got.filter((u) => u.pollMsgId === id).map(versionOf);
      expect(versions).toEqual([...versions].sort((x, y) => x - y));
    }
  }
});

it('gives a reading client every poll changed in one round, not only the first write or two', async () => {
  // A poll's interval of a minute: a state held back as "busy" would come a minute later.
  const { session, server } = await pushingServer(60_000, 16 * 1024 * 1024);
  const got = new Set<string>();
  let done = () => {};
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  await server.client('initial_poll_data', (s) =>
    s.on('poll_update_to_gui', (u: Update) => {
      got.add(u.pollMsgId);
      if (got.size === 20) done();
    }),
  );
  // 20 polls of ~100 KB change at once: about 2 MB, all queued behind the first write.
  for (let n = 0; n < 20; n++) session.emit('pollsUpdated', [pollUpdateOf(bigPoll(n, 1))]);
  // All within seconds, not after the minute a held-back state would wait.
  const inTime = await Promise.race([
    all.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 5_000)),
  ]);
  expect({ inTime, got: got.size }).toEqual({ inTime: true, got: 20 });
});

it('pushes results that agree with the voters it pushes, even when the read model is ahead of the update', async () => {
  const { session, server } = await pushingServer(10, 4 * 1024 * 1024);
  type Pushed = { results: Record<string, number>; voters: Record<string, string[]> };
  let first: (u: Pushed) => void = () => {};
  const pushedOnce = new Promise<Pushed>((resolve) => {
    first = resolve;
  });
  await server.client('initial_poll_data', (s) => s.on('poll_update_to_gui', (u) => first(u)));
  // The update's counts are those of version 1, but its (lazily read) poll is already at
  // version 2: what the read model holds while later changes are still being announced.
  const update = { ...pollUpdateOf(bigPoll(0, 1)), poll: bigPoll(0, 2) };
  session.emit('pollsUpdated', [update]);
  const pushed = await pushedOnce;
  const tally: Record<string, number> = {};
  for (const selected of Object.values(pushed.voters)) {
    for (const hash of selected) {
      const name = hash === optionHash('yes') ? 'yes' : 'no';
      tally[name] = (tally[name] ?? 0) + 1;
    }
  }
  expect(pushed.results).toEqual(tally);
});
