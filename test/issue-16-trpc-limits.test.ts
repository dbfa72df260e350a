import type { AppRouter } from '@pollmasters/client';
import { Limits, type SendPollsInput } from '@pollmasters/shared';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { capturingLogger } from './helpers/logCapture.js';
import { partialPost } from './helpers/partialPost.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sessionStatus } from './helpers/wait.js';

const tooLarge = `request body too large: at most ${Limits.bodyMaxBytes} bytes`;

let server: TestServer;
let url: string;
let chatId: string;
/** Every line the server logged, at debug and above. */
const { logger, lines: logged } = capturingLogger();

beforeAll(async () => {
  server = await startTestServer({ sandbox: { autoVote: false }, logger });
  url = `http://127.0.0.1:${server.port}`;
  await sessionStatus(server.session);
  chatId = (await server.session.listChats())[0]!.id;
});
afterAll(() => server.destroy());

/** The error of a tRPC answer (superjson on the wire). */
const trpcError = (body: string) =>
  superjson.deserialize<{ message: string; data: { code: string; httpStatus: number } }>(
    (JSON.parse(body) as { error: Parameters<typeof superjson.deserialize>[0] }).error,
  );

/** A `polls.send` body of exactly `bytes` bytes, valid but for its size. */
const sendBody = (bytes: number): string => {
  const input = { chatIds: [chatId], question: 'At the limit?', options: ['a', 'b'] };
  const bare = JSON.stringify({ json: input, pad: '' });
  return JSON.stringify({ json: input, pad: 'x'.repeat(bytes - bare.length) });
};

const errorLines = () => logged.filter((line) => line.level >= 50);

describe('tRPC over HTTP: the body limit of the compat API (issue #16)', () => {
  it('answers a body declared too large 413 before the client has sent it, and closes', async () => {
    const answer = await partialPost(
      `${url}/trpc/polls.send`,
      { 'content-type': 'application/json', 'content-length': String(300 * 1024 * 1024) },
      Buffer.alloc(16 * 1024, 'x'),
      300 * 1024 * 1024,
    );
    expect(answer.status).toBe(413);
    expect(answer.written).toBeLessThan(4 * 1024 * 1024);
    expect(answer.headers.connection).toBe('close');
    expect(trpcError(answer.body)).toMatchObject({
      message: tooLarge,
      data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 },
    });
    await answer.closed;
    expect(server.session.listPolls()).toEqual([]);
  });

  it('cuts a chunked body off at the limit with 413, and closes', async () => {
    const answer = await partialPost(
      `${url}/trpc/polls.send`,
      { 'content-type': 'application/json' },
      Buffer.alloc(16 * 1024, ' '),
      64 * 1024 * 1024,
    );
    expect(answer.status).toBe(413);
    expect(answer.written).toBeLessThan(16 * 1024 * 1024);
    expect(trpcError(answer.body)).toMatchObject({
      message: tooLarge,
      data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 },
    });
    await answer.closed;
    expect(server.session.listPolls()).toEqual([]);
  });

  it('takes a body of exactly the limit, with a length or chunked, and refuses one byte more', async () => {
    const atLimit = sendBody(Limits.bodyMaxBytes);
    expect(Buffer.byteLength(atLimit)).toBe(Limits.bodyMaxBytes);
    const post = (body: RequestInit['body'], init: RequestInit = {}) =>
      fetch(`${url}/trpc/polls.send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        ...init,
      });
    expect((await post(atLimit)).status).toBe(200);
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = Buffer.from(atLimit);
        for (let at = 0; at < bytes.length; at += 10_000) {
          controller.enqueue(bytes.subarray(at, at + 10_000));
        }
        controller.close();
      },
    });
    expect((await post(chunked, { duplex: 'half' } as RequestInit)).status).toBe(200);
    expect(server.session.listPolls()).toHaveLength(2);

    const over = await post(sendBody(Limits.bodyMaxBytes + 1));
    expect(over.status).toBe(413);
    expect(trpcError(await over.text()).message).toBe(tooLarge);
    expect(server.session.listPolls()).toHaveLength(2);
    expect(errorLines()).toEqual([]);
  });
});

/** Opens a tRPC WebSocket (no key on this server). */
const openSocket = async (): Promise<WebSocket> => {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/trpc`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
};

/** The answer to a `session.status` query with id `id`, padded to `bytes` bytes. */
const statusQuery = (ws: WebSocket, id: number, bytes = 0): Promise<unknown> => {
  const params = { path: 'session.status', input: { json: null } };
  const bare = JSON.stringify({ id, method: 'query', params });
  const padded =
    bytes === 0
      ? bare
      : JSON.stringify({
          id,
          method: 'query',
          params,
          pad: 'x'.repeat(bytes - bare.length - ',"pad":""'.length),
        });
  expect(bytes === 0 || Buffer.byteLength(padded) === bytes).toBe(true);
  return new Promise((resolve) => {
    const onMessage = (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as { id?: unknown };
      if (msg.id !== id) return;
      ws.off('message', onMessage);
      resolve(msg);
    };
    ws.on('message', onMessage);
    ws.send(padded);
  });
};

/** A batch of calls as one WebSocket message holds it at most: the body limit for each. */
const wsMaxMessage = Limits.batchMaxCalls * Limits.bodyMaxBytes;

describe('tRPC over WebSocket: messages up to a batch of calls at the same limit (issue #16)', () => {
  it('closes with 1009 the connection that sends more, and only that one', async () => {
    const bystander = await openSocket();
    const sender = await openSocket();
    expect(await statusQuery(sender, 1, Limits.bodyMaxBytes)).toMatchObject({
      id: 1,
      result: { type: 'data', data: { json: { status: 'ready' } } },
    });
    const closed = new Promise<number>((resolve) => sender.once('close', resolve));
    sender.send('x'.repeat(wsMaxMessage + 1));
    const timeout = new Promise<string>((resolve) => setTimeout(resolve, 5_000, 'still open'));
    expect(await Promise.race([closed, timeout])).toBe(1009);
    expect(bystander.readyState).toBe(WebSocket.OPEN);
    expect(await statusQuery(bystander, 2)).toMatchObject({ id: 2, result: { type: 'data' } });
    const next = await openSocket();
    expect(await statusQuery(next, 3)).toMatchObject({ id: 3, result: { type: 'data' } });
    bystander.close();
    next.close();
    expect(errorLines()).toEqual([]);
  });
});

describe('tRPC over WebSocket: the calls of one tick (issue #16 review)', () => {
  it('answers three polls.send near the body limit each, sent at once by a stock client', async () => {
    const wsClient = createWSClient({
      url: `ws://127.0.0.1:${server.port}/trpc`,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    });
    const stock = createTRPCClient<AppRouter>({
      links: [wsLink<AppRouter>({ client: wsClient, transformer: superjson })],
    });
    const closes: number[] = [];
    wsClient.connectionState.subscribe({
      next: (state) => {
        if (state.state === 'connecting' && state.error) closes.push(1);
      },
    });
    try {
      const before = server.session.listPolls().length;
      // tRPC's client sends the calls of one tick as one message: here about 3 x 60 KiB.
      const sends = ['a', 'b', 'c'].map((tag) =>
        stock.polls.send.mutate({
          chatIds: [chatId],
          question: `Batch ${tag}?`,
          options: ['yes', 'no'],
          selectableCount: 1,
          pad: 'x'.repeat(Limits.bodyMaxBytes - 4 * 1024),
        } as SendPollsInput),
      );
      const results = await Promise.all(sends);
      expect(results.map((r) => r.sent)).toEqual([1, 1, 1]);
      expect(server.session.listPolls()).toHaveLength(before + 3);
      expect(closes).toEqual([]);
    } finally {
      await wsClient.close();
    }
  });
});
