import { Limits } from '@pollmasters/shared';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';
import { eventually, sessionStatus } from './helpers/wait.js';

// Issue 16 review: Socket.IO took messages up to its own 1 MB default; the shared body limit
// (64 KiB) applies to it as to every other entry point.

let server: TestServer;
const sockets: Socket[] = [];

beforeAll(async () => {
  server = await startTestServer();
  await sessionStatus(server.session);
});
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});
afterAll(() => server.destroy());

const connect = async (transport: 'websocket' | 'polling'): Promise<Socket> => {
  const socket = connectSocket(server.url, { transports: [transport], reconnection: false });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
};

const socketIoClients = async () =>
  ((await (await fetch(`${server.url}/healthz`)).json()) as { clients: { socketIo: number } })
    .clients.socketIo;

describe('Socket.IO messages over the body limit (issue #16 review)', () => {
  it.each(['websocket', 'polling'] as const)(
    'over %s: close that client’s connection only',
    async (transport) => {
      const bystander = await connect(transport);
      const sender = await connect(transport);
      const disconnected = new Promise<string>((resolve) => sender.once('disconnect', resolve));
      sender.emit('poll_data', 'x'.repeat(Limits.bodyMaxBytes + 1));
      const reason = await Promise.race([
        disconnected,
        new Promise<string>((resolve) => setTimeout(resolve, 5_000, 'still connected')),
      ]);
      expect(reason).toMatch(/^transport (close|error)$/);
      await eventually('the server to drop it', async () => (await socketIoClients()) === 1);
      expect(bystander.connected).toBe(true);
    },
  );
});
