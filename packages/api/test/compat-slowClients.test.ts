import type { Socket as NetSocket } from 'node:net';
import { optionHash, type Poll } from '@pollmasters/shared';
import { afterEach, expect, it } from 'vitest';
import { bufferedBytes, writeBufferOf } from '../src/compat/slowClients.js';
import { pollUpdateOf } from '../src/session/readModel.js';
import { startCompatServer } from './compatServer.js';
import { FakeSession, USER } from './fakeSession.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A poll with many voters: each full-state push of it is about 100 KB. */
const bigPoll = (version: number): Poll => {
  const options = ['yes', 'no'].map((name) => ({ name, hash: optionHash(name) }));
  return {
    id: '3EB0BIG',
    chatId: '120363000000000001@g.us',
    question: 'Big?',
    options,
    selectableCount: 0,
    createdAt: 1,
    voters: Array.from({ length: 800 }, (_, i) => ({
      voter: `1555${String(i).padStart(7, '0')}@s.whatsapp.net`,
      selected: [options[(i + version) % 2]!.hash],
      timestampMs: version,
    })),
    unknownOptionVotes: 0,
    version,
  };
};

it('disconnects a Socket.IO client that stops reading, without delaying the others', async () => {
  const maxBufferedBytes = 512 * 1024;
  const session = new FakeSession({ status: 'ready', qr: null, user: USER });
  const server = await startCompatServer(session, { coalesceMs: 0, maxBufferedBytes });
  cleanups.push(server.close);
  const client = () => server.client('initial_poll_data');
  const healthy = await client();
  const stalled = await client();
  const healthyVersions: number[] = [];
  healthy.on('poll_update_to_gui', (u: { voters: object }) => {
    healthyVersions.push(Object.keys(u.voters).length);
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
    session.emit('pollsUpdated', [pollUpdateOf(bigPoll(rounds))]);
    peak = Math.max(peak, serverStalled ? bufferedBytes(writeBufferOf(serverStalled)) : 0);
    // Let the sockets work between pushes, as real vote batches arrive over time.
    await new Promise<void>((r) => setImmediate(r));
  }
  expect(isDropped).toBe(true);
  // Bounded: never more than the limit plus the one packet that crossed it.
  expect(peak).toBeLessThan(maxBufferedBytes + 200 * 1024);
  expect(server.io.of('/').sockets.has(serverStalled?.id ?? '')).toBe(false);

  // The healthy client got every push meanwhile, in time with them.
  const pushed = rounds;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`healthy got ${healthyVersions.length}/${pushed}`)),
      10_000,
    );
    const check = () => {
      if (healthyVersions.length < pushed) return;
      clearTimeout(timer);
      healthy.off('poll_update_to_gui', check);
      resolve();
    };
    healthy.on('poll_update_to_gui', check);
    check();
  });
  expect(healthyVersions).toHaveLength(pushed);
  expect(healthy.connected).toBe(true);
});
