import type { Socket as NetSocket } from 'node:net';
import type { Poll } from '@pollmasters/shared';
import { optionHash } from '@pollmasters/shared/node';
import { afterEach, expect, it } from 'vitest';
import { bufferedBytes, writeBufferOf } from '../src/compat/slowClients.js';
import { startCompatServer } from './compatServer.js';
import { FakeSession, USER } from './fakeSession.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A poll with many voters: its `new_poll_sent` is about 100 KB. */
const bigPoll = (n: number): Poll => {
  const options = ['yes', 'no'].map((name) => ({ name, hash: optionHash(name) }));
  return {
    id: `3EB0BIG${n}`,
    chatId: '120363000000000001@g.us',
    creator: { jid: '15550000001@s.whatsapp.net', fromMe: true },
    question: 'Big?',
    options,
    selectableCount: 0,
    createdAt: 1,
    voters: Array.from({ length: 800 }, (_, i) => ({
      voter: `1555${String(i).padStart(7, '0')}@s.whatsapp.net`,
      selected: [options[(i + n) % 2]!.hash],
      timestampMs: n,
    })),
    unknownOptionVotes: 0,
    version: 0,
  };
};

// Full poll states are not queued for a client that does not read (./compat-guiPushes.test.ts);
// every other event is, up to a bound: here `new_poll_sent`, each carrying a whole poll.
it('disconnects a Socket.IO client that stops reading, without delaying the others', async () => {
  const maxBufferedBytes = 512 * 1024;
  const session = new FakeSession({ status: 'ready', qr: null, user: USER });
  const server = await startCompatServer(session, { maxBufferedBytes });
  cleanups.push(server.close);
  const client = () => server.client('initial_poll_data');
  const healthy = await client();
  const stalled = await client();
  const healthyGot: string[] = [];
  healthy.on('new_poll_sent', (u: { pollMsgId: string }) => {
    healthyGot.push(u.pollMsgId);
  });
  // The stalled client's process stops reading its TCP socket, as a frozen GUI would.
  const engine = stalled.io.engine as unknown as { transport: { ws: { _socket: NetSocket } } };
  const stalledTcp = engine.transport.ws._socket;
  stalledTcp.pause();
  // Upgraded connections are not the HTTP server's to close: end this one from its side.
  cleanups.push(() => {
    stalledTcp.destroy();
  });
  const [serverStalled] = [...server.io.of('/').sockets.values()].filter(
    (s) => s.id === stalled.id,
  );
  expect(serverStalled).toBeDefined();

  // Push until the server gives up on the stalled client; bounded by `rounds`.
  let peak = 0;
  let rounds = 0;
  const dropped = new Promise<void>((r) => serverStalled?.once('disconnect', () => r()));
  let isDropped = false;
  void dropped.then(() => {
    isDropped = true;
  });
  while (!isDropped && rounds < 2_000) {
    rounds += 1;
    session.emit('pollSent', bigPoll(rounds));
    peak = Math.max(peak, serverStalled ? bufferedBytes(writeBufferOf(serverStalled)) : 0);
    // Let the sockets work between pushes, as real vote batches arrive over time.
    await new Promise<void>((r) => setImmediate(r));
  }
  expect(isDropped).toBe(true);
  // Bounded: never more than the limit plus the one packet that crossed it.
  expect(peak).toBeLessThan(maxBufferedBytes + 200 * 1024);
  expect(server.io.of('/').sockets.has(serverStalled?.id ?? '')).toBe(false);

  // The healthy client got every event meanwhile, in order.
  const pushed = rounds;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`healthy got ${healthyGot.length}/${pushed}`)),
      10_000,
    );
    const check = () => {
      if (healthyGot.length < pushed) return;
      clearTimeout(timer);
      healthy.off('new_poll_sent', check);
      resolve();
    };
    healthy.on('new_poll_sent', check);
    check();
  });
  expect(healthyGot).toEqual(Array.from({ length: pushed }, (_, i) => bigPoll(i + 1).id));
  expect(healthy.connected).toBe(true);
});

it('weighs queued packets in UTF-8 bytes, a broadcast by its pre-encoded frame', () => {
  const text = '{"q":"Café ☕"}';
  const bytes = Buffer.byteLength(text);
  // As socket.io-adapter frames a broadcast: engine.io's type "4", then the packet's UTF-8.
  const payload = Buffer.from(`4${text}`);
  const broadcast = { data: text, options: { wsPreEncodedFrame: [Buffer.alloc(2), payload] } };
  const single = { data: text, options: {} };
  const binary = { data: new Uint8Array(7) };
  expect(bufferedBytes([broadcast, single, binary, {}])).toBe(2 * bytes + 7);
});
