import { Config } from '@pollmasters/api';
import { createPollMastersClient, type PollMastersClient } from '@pollmasters/client';
import { FailureResponse } from '@pollmasters/shared';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sessionStatus } from './helpers/wait.js';

const KEY = 'correct-horse-battery-staple';
const WRONG = 'correct-horse-battery-stapler';

describe('config: the bind address decides whether a key is required', () => {
  it('refuses a non-loopback bind without POLLMASTERS_API_KEY', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.org']) {
      const parsed = Config.safeParse({ host });
      expect(parsed.success, host).toBe(false);
      expect(parsed.error?.issues.map((i) => i.message)).toContain(
        'POLLMASTERS_API_KEY is required when HOST is not a loopback address',
      );
    }
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) {
      expect(Config.safeParse({ host }).success, host).toBe(true);
    }
    expect(Config.safeParse({ host: '0.0.0.0', apiKey: KEY }).success).toBe(true);
  });
});

/** A fetch to the server with optional headers; the JSON body when there is one. */
const call = async (
  url: string,
  init: RequestInit & { headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> => {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body, headers: res.headers };
};

/** Connects a socket.io client; resolves with it once connected, or with the connect error. */
const socketConnect = (
  url: string,
  options: { auth?: Record<string, unknown>; extraHeaders?: Record<string, string> } = {},
): Promise<{ socket: Socket; error?: Error; events: string[]; initial: Promise<void> }> =>
  new Promise((resolve) => {
    const socket = connect(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      ...options,
    });
    const events: string[] = [];
    socket.onAny((event: string) => events.push(event));
    const initial = new Promise<void>((r) => socket.once('initial_poll_data', () => r()));
    socket.once('connect', () => resolve({ socket, events, initial }));
    socket.once('connect_error', (error) => {
      socket.disconnect();
      resolve({ socket, error, events, initial });
    });
  });

/** Opens a raw WebSocket; resolves with 'open' or with the HTTP status that refused it. */
const rawUpgrade = (url: string, headers: Record<string, string> = {}): Promise<'open' | number> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (err) => {
      if (ws.readyState !== WebSocket.CLOSED) reject(err);
    });
  });

describe('bound to a non-loopback address with a key', () => {
  let server: TestServer;
  let url: string;
  const closers: (() => unknown)[] = [];
  const client = (apiKey?: string): PollMastersClient => {
    const c = createPollMastersClient({ url, ...(apiKey ? { apiKey } : {}) });
    closers.push(() => c.close());
    return c;
  };

  beforeAll(async () => {
    server = await startTestServer({ config: { host: '0.0.0.0', apiKey: KEY } });
    // Connecting from loopback on purpose: the rule is by bind address, not by caller.
    url = `http://127.0.0.1:${server.port}`;
    await sessionStatus(server.session);
  });
  afterAll(async () => {
    for (const close of closers) await close();
    await server.destroy();
  });

  it('answers every HTTP route 401 without the right key, and serves it with it', async () => {
    const routes: [string, string][] = [
      ['GET', '/status'],
      ['GET', '/get-chats'],
      ['GET', '/get-all-poll-data'],
      ['POST', '/send-poll'],
      ['POST', '/logout'],
      ['GET', '/sandbox/ledger'],
      ['GET', '/healthz'],
      ['GET', '/metrics'],
      ['GET', '/no-such-route'],
    ];
    for (const [method, path] of routes) {
      const variants: Record<string, string>[] = [
        {},
        { 'x-api-key': WRONG },
        { authorization: `Bearer ${WRONG}` },
        { 'x-api-key': '' },
        { authorization: KEY },
      ];
      for (const headers of variants) {
        const res = await call(`${url}${path}`, { method, headers });
        expect(res.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(FailureResponse.parse(res.body).message).toMatch(/API key/);
      }
    }
    expect((await call(`${url}/status`, { headers: { 'x-api-key': KEY } })).status).toBe(200);
    expect(
      (await call(`${url}/status`, { headers: { authorization: `Bearer ${KEY}` } })).status,
    ).toBe(200);
  });

  it('changes nothing on a refused request: no poll sent, no logout', async () => {
    const [chat] = (
      (await call(`${url}/get-chats`, { headers: { 'x-api-key': KEY } })).body as {
        chats: { id: string }[];
      }
    ).chats;
    const send = await call(`${url}/send-poll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': WRONG },
      body: JSON.stringify({
        chatId: chat?.id,
        question: 'Refused?',
        options: ['a', 'b'],
        allowMultipleAnswers: false,
      }),
    });
    expect(send.status).toBe(401);
    expect((await call(`${url}/logout`, { method: 'POST' })).status).toBe(401);
    await expect(
      client(WRONG).polls.send.mutate({
        chatIds: [chat?.id ?? ''],
        question: 'Refused?',
        options: ['a', 'b'],
      }),
    ).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED', httpStatus: 401 } });
    expect(server.session.listPolls()).toHaveLength(0);
    expect(server.session.sessionState.status).toBe('ready');
  });

  it('grants no CORS origin, let alone *', async () => {
    const origin = 'http://evil.example';
    const preflight = await call(`${url}/status`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'x-api-key',
      },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const get = await call(`${url}/status`, { headers: { origin, 'x-api-key': KEY } });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    const polling = await call(`${url}/socket.io/?EIO=4&transport=polling`, {
      headers: { origin },
    });
    expect(polling.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('requires the key in the Socket.IO handshake', async () => {
    for (const options of [
      {},
      { auth: { apiKey: WRONG } },
      { auth: { apiKey: 42 } },
      { extraHeaders: { 'x-api-key': WRONG } },
    ]) {
      const { error, events } = await socketConnect(url, options);
      expect(error, JSON.stringify(options)).toBeInstanceOf(Error);
      expect(events).toEqual([]);
    }
    for (const options of [{ auth: { apiKey: KEY } }, { extraHeaders: { 'x-api-key': KEY } }]) {
      const { socket, error, initial } = await socketConnect(url, options);
      expect(error).toBeUndefined();
      await initial;
      socket.disconnect();
    }
  });

  it('requires the key over tRPC HTTP', async () => {
    await expect(client().session.status.query()).rejects.toMatchObject({
      data: { code: 'UNAUTHORIZED', httpStatus: 401 },
    });
    await expect(client(WRONG).polls.list.query()).rejects.toMatchObject({
      data: { code: 'UNAUTHORIZED' },
    });
    const raw = await call(`${url}/trpc/session.status`);
    expect(raw.status).toBe(401);
    expect(JSON.stringify(raw.body)).not.toContain('ready');
    expect((await client(KEY).session.status.query()).status).toBe('ready');
  });

  it('requires the key over the tRPC WebSocket: each call refused (issue-16-trpc-auth.test.ts)', async () => {
    // tRPC's upgrades open either way, so that its clients get UNAUTHORIZED rather than retry.
    const wsUrl = `ws://127.0.0.1:${server.port}/trpc`;
    expect(await rawUpgrade(wsUrl, { 'x-api-key': WRONG })).toBe('open');
    expect(await rawUpgrade(wsUrl, { 'x-api-key': KEY })).toBe('open');
    expect(
      await rawUpgrade(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`, {
        'x-api-key': WRONG,
      }),
    ).toBe(401);

    // The client sends its key in connectionParams, after the upgrade.
    const subscribe = (c: PollMastersClient) =>
      new Promise<string>((resolve) => {
        const sub = c.session.events.subscribe(
          {},
          {
            onData: ({ data }) => {
              sub.unsubscribe();
              resolve(data.state.status);
            },
            onError: (err) => {
              sub.unsubscribe();
              resolve((err.data as { code?: string } | undefined)?.code ?? err.message);
            },
          },
        );
      });
    expect(await subscribe(client(WRONG))).toBe('UNAUTHORIZED');
    expect(await subscribe(client(KEY))).toBe('ready');
  });
});

describe('bound to loopback without a key', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.destroy());

  it('serves every entry point keyless, so the GUI works as it is', async () => {
    const url = `http://127.0.0.1:${server.port}`;
    expect((await call(`${url}/status`)).status).toBe(200);
    const { socket, error } = await socketConnect(url);
    expect(error).toBeUndefined();
    socket.disconnect();
    expect(await rawUpgrade(`ws://127.0.0.1:${server.port}/trpc`)).toBe('open');
    const c = createPollMastersClient({ url });
    expect((await c.session.status.query()).status).toMatch(/./);
    await c.close();
  });
});
