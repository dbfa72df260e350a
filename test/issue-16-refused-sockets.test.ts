import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestServer, type TestServer } from './helpers/server.js';
import { eventually, sessionStatus } from './helpers/wait.js';

// Issue 16 review: tRPC WebSockets without the key stay open (so that tRPC's client gets
// UNAUTHORIZED once instead of reconnecting), but not without limit: at most 8 per remote
// address and 64 in all, the oldest closed to make room; and they are no clients of the API.

const KEY = 'correct-horse-battery-staple';
let server: TestServer;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  server = await startTestServer({ config: { apiKey: KEY } });
  await sessionStatus(server.session);
});
afterEach(() => {
  for (const ws of sockets.splice(0)) ws.terminate();
});
afterAll(() => server.destroy());

/** An open tRPC WebSocket from `localAddress` (any of 127/8 is this machine). */
const connect = async (
  localAddress = '127.0.0.1',
  { query = '', headers = {} }: { query?: string; headers?: Record<string, string> } = {},
): Promise<WebSocket> => {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/trpc${query}`, {
    localAddress,
    headers,
  });
  sockets.push(ws);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
};

/** The close code `ws` saw; rejects if it stays open for 5 s. */
const closed = (ws: WebSocket) =>
  new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('still open after 5 s')), 5_000);
    ws.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });

/** The server still serves `ws`: it answers the client's keep-alive PING with PONG. */
const pong = (ws: WebSocket) =>
  new Promise<string>((resolve) => {
    const onMessage = (data: Buffer) => {
      if (data.toString() !== 'PONG') return;
      ws.off('message', onMessage);
      resolve('PONG');
    };
    ws.on('message', onMessage);
    ws.send('PING');
  });

const get = (path: string) =>
  fetch(`http://127.0.0.1:${server.port}${path}`, { headers: { 'x-api-key': KEY } });

const trpcClients = async () => {
  const health = (await (await get('/healthz')).json()) as { clients: { trpc: number } };
  const metrics = await (await get('/metrics')).text();
  return {
    healthz: health.clients.trpc,
    metrics: Number(/^pollmasters_trpc_clients (\d+)$/m.exec(metrics)?.[1]),
  };
};

describe('tRPC WebSockets without the key (issue #16 review)', () => {
  it('holds at most 8 per address: the oldest is closed, the others are still served', async () => {
    const first = await connect();
    // One still to send its key (connectionParams) counts as well.
    const others = [await connect('127.0.0.1', { query: '?connectionParams=1' })];
    for (let i = 0; i < 6; i++) others.push(await connect());
    const neighbour = await connect('127.0.0.2');
    const firstClosed = closed(first);
    others.push(await connect());
    expect(await firstClosed).toBe(1006);
    const refused = others.filter((_, i) => i > 0);
    expect(await Promise.all([...refused, neighbour].map(pong))).toEqual(
      Array(refused.length + 1).fill('PONG'),
    );
    expect(others[0]!.readyState).toBe(WebSocket.OPEN);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('holds at most 64 in all: past them the oldest of all is closed', async () => {
    const all: WebSocket[] = [];
    for (let address = 2; address < 10; address++) {
      for (let i = 0; i < 8; i++) all.push(await connect(`127.0.0.${address}`));
    }
    const oldestClosed = closed(all[0]!);
    const last = await connect('127.0.0.10');
    expect(await oldestClosed).toBe(1006);
    expect(await pong(last)).toBe('PONG');
    expect(await pong(all[1]!)).toBe('PONG');
    expect((await get('/healthz')).status).toBe(200);
  });

  it('counts them as no tRPC client in /healthz and /metrics; a socket with the key counts', async () => {
    for (let i = 0; i < 3; i++) await connect();
    await connect('127.0.0.1', { query: '?connectionParams=1' });
    expect(await trpcClients()).toEqual({ healthz: 0, metrics: 0 });
    const keyed = await connect('127.0.0.1', { headers: { 'x-api-key': KEY } });
    expect(await trpcClients()).toEqual({ healthz: 1, metrics: 1 });
    const keyedClosed = closed(keyed);
    keyed.close();
    await keyedClosed;
    // The server sees the close after the client does.
    await eventually('the server to count the closed socket out', async () => {
      const counts = await trpcClients();
      return counts.healthz === 0 && counts.metrics === 0;
    });
  });
});
