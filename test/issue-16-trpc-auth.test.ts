import type { Duplex } from 'node:stream';
import {
  type AppRouter,
  createPollMastersClient,
  type PollMastersClient,
} from '@pollmasters/client';
import { Limits } from '@pollmasters/shared';
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  type TRPCClientError,
  wsLink,
} from '@trpc/client';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sessionStatus, within } from './helpers/wait.js';

const KEY = 'correct-horse-battery-staple';
const WRONG = 'correct-horse-battery-stapler';

let keyed: TestServer;
let open: TestServer;
/** tRPC WebSocket upgrades the keyed server has seen, and their sockets. */
let upgrades = 0;
const trpcSockets: Duplex[] = [];

beforeAll(async () => {
  [keyed, open] = await Promise.all([
    startTestServer({ config: { apiKey: KEY } }),
    startTestServer(),
  ]);
  keyed.httpServer.on('upgrade', (req, socket) => {
    if (!(req.url ?? '').startsWith('/trpc')) return;
    upgrades++;
    trpcSockets.push(socket);
  });
  await Promise.all([sessionStatus(keyed.session), sessionStatus(open.session)]);
});
afterAll(() => Promise.all([keyed.destroy(), open.destroy()]));

const base = (server: TestServer) => `http://127.0.0.1:${server.port}`;

/** A tRPC answer over HTTP: status, and each call's error (superjson on the wire). */
const call = async (server: TestServer, path: string, init: RequestInit = {}) => {
  const res = await fetch(`${base(server)}${path}`, init);
  const text = await res.text();
  const bodies = [JSON.parse(text)].flat() as {
    error: Parameters<typeof superjson.deserialize>[0];
  }[];
  const errors = bodies.map((b) =>
    superjson.deserialize<{ message: string; data: { code: string; httpStatus: number } }>(b.error),
  );
  return { status: res.status, text, errors };
};

const unauthorized = {
  message: expect.stringMatching(/missing or wrong API key/),
  data: expect.objectContaining({ code: 'UNAUTHORIZED', httpStatus: 401 }),
};

describe('tRPC over HTTP with a key set: 401 before any procedure is looked up (issue #16)', () => {
  it('answers every request without the right key 401 UNAUTHORIZED, whatever its path', async () => {
    const requests: [string, RequestInit][] = [
      ['/trpc/nope', {}],
      ['/trpc/polls.nope', {}],
      ['/trpc/session.status', {}],
      ['/trpc', {}],
      ['/trpc/polls.send', { method: 'POST', headers: { 'content-type': 'application/json' } }],
      ['/trpc/nope', { method: 'POST', body: '{' }],
      ['/trpc/nope', { method: 'PUT' }],
    ];
    const variants: Record<string, string>[] = [
      {},
      { 'x-api-key': WRONG },
      { authorization: `Bearer ${WRONG}` },
    ];
    for (const headers of variants) {
      for (const [path, init] of requests) {
        const what = `${init.method ?? 'GET'} ${path} ${JSON.stringify(headers)}`;
        const res = await call(keyed, path, {
          ...init,
          headers: { ...(init.headers as Record<string, string>), ...headers },
        });
        expect(res.status, what).toBe(401);
        expect(res.errors, what).toEqual([expect.objectContaining(unauthorized)]);
        expect(res.text, what).not.toMatch(/procedure|nope/);
      }
    }
  });

  it('answers a batch call one UNAUTHORIZED per call, known procedures or not', async () => {
    const get = await call(keyed, '/trpc/nope,session.status,polls.nope?batch=1&input={}');
    expect(get.status).toBe(401);
    expect(get.errors).toEqual(Array(3).fill(expect.objectContaining(unauthorized)));
    const post = await call(keyed, '/trpc/a,b?batch=1', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(post.status).toBe(401);
    expect(post.errors).toEqual(Array(2).fill(expect.objectContaining(unauthorized)));
    // A stock tRPC client batching two queries gets UNAUTHORIZED for each.
    const stock = createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url: `${base(keyed)}/trpc`, transformer: superjson })],
    });
    const results = await Promise.allSettled([
      stock.session.status.query(),
      stock.polls.list.query(),
    ]);
    expect(results.map((r) => r.status === 'rejected' && r.reason.data?.code)).toEqual([
      'UNAUTHORIZED',
      'UNAUTHORIZED',
    ]);
  });

  it('ends an event stream (httpSubscriptionLink) with one UNAUTHORIZED event, whatever its path', async () => {
    const texts = [];
    for (const path of ['/trpc/session.events', '/trpc/nope']) {
      const res = await fetch(`${base(keyed)}${path}`, {
        headers: { accept: 'text/event-stream' },
      });
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      texts.push(await res.text());
    }
    expect(texts[0]).toBe(texts[1]);
    const [, data] = /^event: serialized-error\ndata: (.*)\n\n$/.exec(texts[0]!) ?? [];
    expect(superjson.deserialize(JSON.parse(data!))).toMatchObject(unauthorized);
  });

  it('serves the key holder, who may learn that a procedure does not exist', async () => {
    const headers = { 'x-api-key': KEY };
    expect((await call(keyed, '/trpc/nope', { headers })).errors).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ code: 'NOT_FOUND' }) }),
    ]);
    const ok = await fetch(`${base(keyed)}/trpc/session.status`, { headers });
    expect(ok.status).toBe(200);
  });

  it('without a key configured, still answers an unknown path 404 NOT_FOUND', async () => {
    for (const path of ['/trpc/nope', '/trpc/polls.nope']) {
      const res = await call(open, path);
      expect(res.status, path).toBe(404);
      expect(res.errors[0]?.data.code, path).toBe('NOT_FOUND');
    }
  });
});

/** Resolves once `ws` is open; rejects if the server refused it. */
const opened = (ws: WebSocket) =>
  new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });

type Handlers = {
  onData: () => void;
  onError: (err: TRPCClientError<AppRouter>) => void;
};

/**
 * Subscribes to `session.events` and resolves once the first error came and `settle` (what
 * the client does next on its own: a second call on the same connection, keep-alive pings, a
 * lazy close) is done: with the errors the subscriber saw and the upgrades the server saw.
 * A reconnect would show as a second upgrade, or the second call would fail otherwise.
 */
const subscribeUntilRefused = async (
  subscribe: (handlers: Handlers) => { unsubscribe(): void },
  settle: () => Promise<void>,
) => {
  const before = upgrades;
  const seen: TRPCClientError<AppRouter>[] = [];
  let data = 0;
  let sub: { unsubscribe(): void } | undefined;
  await within(
    new Promise<void>((resolve) => {
      sub = subscribe({
        onData: () => data++,
        onError: (err) => {
          seen.push(err);
          resolve();
        },
      });
    }),
    5_000,
    'onError',
  );
  const atError = upgrades - before;
  await settle();
  sub?.unsubscribe();
  return { errors: seen, data, upgradesAtError: atError, upgrades: upgrades - before };
};

/** Resolves once the server has received `frames` more frames on its last tRPC socket. */
const framesReceived = (frames: number) => {
  const socket = trpcSockets.at(-1)!;
  return within(
    new Promise<void>((resolve) => {
      let left = frames;
      const onData = () => {
        if (--left > 0) return;
        socket.off('data', onData);
        resolve();
      };
      socket.on('data', onData);
    }),
    5_000,
    `${frames} frames from the client`,
  );
};

describe('tRPC WebSocket without the right key: UNAUTHORIZED once, no reconnect (issue #16)', () => {
  const expectRefusedOnce = (result: Awaited<ReturnType<typeof subscribeUntilRefused>>) => {
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject(unauthorized);
    expect(result.data).toBe(0);
    expect(result.upgradesAtError).toBe(1);
    expect(result.upgrades).toBe(1);
  };

  type WsClient = ReturnType<typeof createWSClient>;
  type Stock = ReturnType<typeof createTRPCClient<AppRouter>>;
  /** A second call on the same client: refused on the connection the first one was. */
  const secondCall = async (stock: Stock) => {
    await expect(stock.session.status.query()).rejects.toMatchObject(unauthorized);
  };
  /** The client's state settles to `state` (and does not move on to reconnecting). */
  const clientState = (wsClient: WsClient, state: 'idle' | 'pending') =>
    within(
      new Promise<void>((resolve) => {
        const sub = wsClient.connectionState.subscribe({
          next: (s) => {
            if (s.state !== state) return;
            queueMicrotask(() => sub.unsubscribe());
            resolve();
          },
        });
      }),
      5_000,
      `client state ${state}`,
    );

  const stockVariants: [
    string,
    Parameters<typeof createWSClient>[0] extends infer O ? Partial<O> : never,
    (stock: Stock, wsClient: WsClient) => Promise<void>,
  ][] = [
    ['no connectionParams', {}, secondCall],
    ['connectionParams without a key', { connectionParams: {} }, secondCall],
    ['a wrong key in connectionParams', { connectionParams: { apiKey: WRONG } }, secondCall],
    [
      // Closes its socket once idle: it must not open another for the refused subscription.
      'a wrong key, lazy',
      { connectionParams: { apiKey: WRONG }, lazy: { enabled: true, closeMs: 200 } },
      async (_stock, wsClient) => {
        await clientState(wsClient, 'idle');
        expect(wsClient.connectionState.get()).toMatchObject({ state: 'idle', error: null });
      },
    ],
    [
      // Its PINGs must be answered: three of them, past the pong timeout of the first.
      'no key, with keep-alive pings',
      { keepAlive: { enabled: true, intervalMs: 200, pongTimeoutMs: 300 } },
      async (stock) => {
        await framesReceived(3);
        await secondCall(stock);
      },
    ],
  ];
  for (const [what, options, settle] of stockVariants) {
    it(`stock createWSClient + wsLink, ${what}`, async () => {
      const wsClient = createWSClient({
        url: `ws://127.0.0.1:${keyed.port}/trpc`,
        WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
        // Quick retries: a reconnect would come before the second call is answered.
        retryDelayMs: () => 100,
        ...options,
      });
      const stock = createTRPCClient<AppRouter>({
        links: [wsLink<AppRouter>({ client: wsClient, transformer: superjson })],
      });
      try {
        expectRefusedOnce(
          await subscribeUntilRefused(
            (handlers) => stock.session.events.subscribe({}, handlers),
            () => settle(stock, wsClient),
          ),
        );
        if (!options.lazy) {
          // Still open at both ends: nothing for the client to reconnect for.
          expect(wsClient.connectionState.get().state).toBe('pending');
          expect(trpcSockets.at(-1)!.destroyed).toBe(false);
        }
      } finally {
        await wsClient.close();
      }
    });
  }

  for (const [what, apiKey] of [
    ['no key', undefined],
    ['a wrong key', WRONG],
  ] as const) {
    it(`the PollMasters client, ${what}`, async () => {
      const client: PollMastersClient = createPollMastersClient({
        url: base(keyed),
        ...(apiKey ? { apiKey } : {}),
      });
      const subscribe = (handlers: Handlers) => client.session.events.subscribe({}, handlers);
      // Its queries go over HTTP: the second call on its WebSocket is another subscription.
      const secondSubscription = async () => {
        const second = await subscribeUntilRefused(subscribe, async () => {});
        expect(second.errors[0]).toMatchObject(unauthorized);
      };
      try {
        expectRefusedOnce(await subscribeUntilRefused(subscribe, secondSubscription));
      } finally {
        await client.close();
      }
    });
  }

  it('answers each call on a refused socket for its own id, unknown procedures alike', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${keyed.port}/trpc`);
    await opened(ws);
    const answers: { id: unknown; error?: Parameters<typeof superjson.deserialize>[0] }[] = [];
    const pong = new Promise<void>((resolve) =>
      ws.on('message', (data) => {
        const text = data.toString();
        if (text === 'PONG') resolve();
        else answers.push(JSON.parse(text));
      }),
    );
    ws.send(
      JSON.stringify([
        { id: 1, method: 'query', params: { path: 'nope', input: { json: null } } },
        { id: 'b', jsonrpc: '2.0', method: 'subscription', params: { path: 'polls.updates' } },
        { id: 1, method: 'subscription.stop' },
      ]),
    );
    ws.send('PING');
    await pong;
    expect(answers.map((a) => a.id)).toEqual([1, 'b']);
    for (const answer of answers) {
      expect(superjson.deserialize(answer.error!)).toMatchObject(unauthorized);
    }
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });

  it('closes with 1009 a refused or unchecked socket that sends too much; the server goes on', async () => {
    for (const query of ['', '?connectionParams=1']) {
      const ws = new WebSocket(`ws://127.0.0.1:${keyed.port}/trpc${query}`);
      await opened(ws);
      const closed = new Promise<number>((resolve) => ws.once('close', resolve));
      ws.send('x'.repeat(Limits.bodyMaxBytes + 1));
      expect(await closed, query).toBe(1009);
    }
    const ok = await fetch(`${base(keyed)}/trpc/session.status`, { headers: { 'x-api-key': KEY } });
    expect(ok.status).toBe(200);
  });

  it('serves the key in connectionParams or in the upgrade’s headers', async () => {
    const client = createPollMastersClient({ url: base(keyed), apiKey: KEY });
    const status = await new Promise<string>((resolve, reject) => {
      const sub = client.session.events.subscribe(
        {},
        {
          onData: ({ data }) => {
            sub.unsubscribe();
            resolve(data.state.status);
          },
          onError: reject,
        },
      );
    });
    expect(status).toBe('ready');
    await client.close();
    const ws = new WebSocket(`ws://127.0.0.1:${keyed.port}/trpc`, {
      headers: { 'x-api-key': KEY },
    });
    await opened(ws);
    const answer = new Promise<string>((resolve) =>
      ws.once('message', (d) => resolve(d.toString())),
    );
    ws.send(
      JSON.stringify({
        id: 7,
        method: 'query',
        params: { path: 'session.status', input: { json: null } },
      }),
    );
    expect(JSON.parse(await answer)).toMatchObject({
      id: 7,
      result: { data: { json: { status: 'ready' } } },
    });
    ws.close();
  });
});
