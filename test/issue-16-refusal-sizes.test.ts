import { type AppRouter, createPollMastersClient } from '@pollmasters/client';
import { Limits } from '@pollmasters/shared';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sessionStatus } from './helpers/wait.js';

// Issue 16 review: a caller without the key must not get more back than it sent. One request
// naming thousands of procedures got one error each (1.7 MB), one WebSocket message of
// thousands of ids as many answers. And no caller, keyed or not, gets a batch of any size.

const KEY = 'correct-horse-battery-staple';
let server: TestServer;
let base: string;

beforeAll(async () => {
  server = await startTestServer({ config: { apiKey: KEY } });
  base = `http://127.0.0.1:${server.port}`;
  await sessionStatus(server.session);
});
afterAll(() => server.destroy());

const decode = (error: Parameters<typeof superjson.deserialize>[0]) =>
  superjson.deserialize<{ message: string; data: { code: string; httpStatus: number } }>(error);

/** A stock tRPC client over batched HTTP, with no limit of its own on a batch's size. */
const stockClient = (headers: Record<string, string> = {}) =>
  createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${base}/trpc`, transformer: superjson, headers })],
  });

describe('tRPC over HTTP: batches (issue #16 review)', () => {
  it('answers a stranger’s batch of thousands of calls with one small 401', async () => {
    const names = Array(7_000).fill('a').join(',');
    const request = `${base}/trpc/${names}?batch=1`;
    const res = await fetch(request);
    const body = await res.text();
    expect(res.status).toBe(401);
    expect(body.length).toBeLessThan(1_000);
    expect(body.length).toBeLessThan(request.length);
    const { error } = JSON.parse(body) as { error: Parameters<typeof superjson.deserialize>[0] };
    expect(decode(error).data).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401 });
  });

  it('still gives a stock httpBatchLink client UNAUTHORIZED for each call of a long batch', async () => {
    const stock = stockClient();
    const results = await Promise.allSettled(
      Array.from({ length: Limits.batchMaxCalls + 5 }, () => stock.session.status.query()),
    );
    expect(results.map((r) => r.status === 'rejected' && r.reason.data?.code)).toEqual(
      Array(Limits.batchMaxCalls + 5).fill('UNAUTHORIZED'),
    );
  });

  it('refuses a keyed batch of more calls than one may hold, with a message saying so', async () => {
    const stock = stockClient({ 'x-api-key': KEY });
    const results = await Promise.allSettled(
      Array.from({ length: Limits.batchMaxCalls + 1 }, () => stock.session.status.query()),
    );
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason;
      expect(reason.data).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400 });
      expect(reason.message).toContain(`at most ${Limits.batchMaxCalls} in one request`);
    }
    const full = await Promise.all(
      Array.from({ length: Limits.batchMaxCalls }, () => stock.session.status.query()),
    );
    expect(full.every((s) => s.status === 'ready')).toBe(true);
  });

  it('the PollMasters client splits a long batch: every call is served', async () => {
    const client = createPollMastersClient({ url: base, apiKey: KEY });
    const statuses = await Promise.all(
      Array.from({ length: Limits.batchMaxCalls * 2 + 1 }, () => client.session.status.query()),
    );
    expect(statuses.every((s) => s.status === 'ready')).toBe(true);
    await client.close();
  });
});

describe('a refused tRPC WebSocket (issue #16 review)', () => {
  it('answers the first calls of a message of thousands, not every one', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/trpc`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    let received = 0;
    const answered: unknown[] = [];
    // The server answers in order: its PONG comes after every answer to the message.
    const pong = new Promise<void>((resolve) =>
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        if (text === 'PONG') return resolve();
        received += data.length;
        answered.push((JSON.parse(text) as { id: unknown }).id);
      }),
    );
    // As many calls as a message may hold, each as short as an id (about 5,500).
    const ids = Array.from({ length: 5_500 }, (_, id) => ({ id }));
    const message = JSON.stringify(ids);
    expect(message.length).toBeLessThanOrEqual(Limits.bodyMaxBytes);
    ws.send(message);
    ws.send('PING');
    await pong;
    expect(answered).toEqual(ids.slice(0, Limits.batchMaxCalls).map(({ id }) => id));
    expect(received).toBeLessThan(10_000);
    ws.close();
  });
});
