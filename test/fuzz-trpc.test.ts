import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sessionStatus } from './helpers/wait.js';

let server: TestServer;
let url: string;
let probe: SandboxProbe;

beforeAll(async () => {
  server = await startTestServer({ sandbox: { autoVote: false } });
  url = `http://127.0.0.1:${server.port}`;
  probe = new SandboxProbe(server.sandboxChannel);
  await sessionStatus(server.session);
});
afterAll(async () => {
  probe.close();
  await server.destroy();
});

const queries = ['session.status', 'chats.list', 'polls.list', 'polls.get', 'polls.export'];
const mutations = ['session.requestPairingCode', 'polls.send'];
const subscriptions = ['session.events', 'polls.updates', 'polls.sendProgress'];

const nasty = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('', '\u0000', '__proto__', 'x@g.us', '+1 555', '1-2'),
  fc.string({ minLength: 250, maxLength: 300 }),
);
const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), nasty);

/** Inputs shaped like the procedures' own, with fields valid, wrong or missing. */
const shaped = fc.record(
  {
    id: value,
    phoneNumber: fc.oneof(fc.constant('15550001111'), value),
    chatIds: fc.oneof(fc.array(nasty, { maxLength: 60 }), value),
    question: fc.oneof(fc.constant('Q?'), value),
    options: fc.oneof(fc.array(nasty, { maxLength: 14 }), value),
    selectableCount: fc.oneof(fc.integer({ min: -3, max: 20 }), value),
    sendId: value,
    lastEventId: value,
    pollId: value,
    snapshot: value,
    format: value,
  },
  { requiredKeys: [] },
);
const input = fc.oneof(shaped, value);

/** The superjson envelope, or not: the wire as a client may get it wrong. */
const wire = fc.oneof(
  input.map((v) => JSON.stringify({ json: v })),
  input.map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 80 }),
);

const httpCall = fc.oneof(
  fc.record({
    kind: fc.constant('query' as const),
    path: fc.constantFrom(...queries),
    wire,
    batch: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('mutation' as const),
    path: fc.constantFrom(...mutations, ...queries),
    wire,
    batch: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('query' as const),
    path: fc.oneof(fc.constantFrom(...subscriptions), fc.string({ maxLength: 20 })),
    wire,
    batch: fc.constant(false),
  }),
);

it('tRPC HTTP: no crash, no 5xx for bad input, nothing stored', async () => {
  await fc.assert(
    fc.asyncProperty(httpCall, async ({ kind, path, wire: body, batch }) => {
      const encoded = batch ? `{"0":${body}}` : body;
      const target = `${url}/trpc/${encodeURIComponent(path)}${batch ? '?batch=1' : ''}`;
      const res =
        kind === 'query'
          ? await fetch(`${target}${batch ? '&' : '?'}input=${encodeURIComponent(encoded)}`)
          : await fetch(target, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: encoded,
            });
      expect(res.status, `${kind} ${path} ${body}`).toBeLessThan(500);
      if (res.headers.get('content-type')?.includes('text/event-stream')) {
        // A subscription over HTTP (SSE) stays open: its answer is the stream itself.
        await res.body?.cancel();
        return;
      }
      const text = await res.text();
      expect(text).not.toContain('INTERNAL_SERVER_ERROR');
      expect(text).not.toContain('"stack"');
    }),
    { numRuns: 250, seed: Number(process.env.FUZZ_SEED ?? 11), endOnFailure: true },
  );
  expect(server.session.listPolls()).toEqual([]);
  expect(Object.keys((await probe.ledger()).polls)).toEqual([]);
  expect(server.session.sessionState.status).toBe('ready');
});

/** Opens a raw tRPC WebSocket and collects every message it gets. */
const openWs = (): Promise<{ ws: WebSocket; messages: unknown[] }> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/trpc`);
    const messages: unknown[] = [];
    ws.on('message', (data) => {
      try {
        messages.push(JSON.parse(String(data)));
      } catch {
        messages.push(String(data));
      }
    });
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('error', reject);
  });

it('tRPC WebSocket: malformed messages and bad subscription inputs get errors, never a crash', async () => {
  const frame = fc.oneof(
    fc
      .record({
        id: fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), value),
        method: fc.constantFrom('subscription', 'query', 'mutation', 'subscription.stop', 'nope'),
        params: fc.oneof(
          fc.record({
            path: fc.constantFrom(...subscriptions, ...queries, ...mutations, 'x'),
            input: input.map((v) => ({ json: v })),
          }),
          value,
        ),
      })
      .map((m) => JSON.stringify(m)),
    fc.string({ maxLength: 100 }),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 8 }), async (frames) => {
      const { ws, messages } = await openWs();
      for (const f of frames) ws.send(f);
      // A well-formed call after the garbage: answered means the connection handled it all.
      ws.send(
        JSON.stringify({
          id: 'probe',
          method: 'query',
          params: { path: 'session.status', input: {} },
        }),
      );
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no answer after ${frames.join(' | ')}`)),
          5_000,
        );
        const check = () => {
          const answered = messages.some((m) => (m as { id?: unknown }).id === 'probe');
          if (answered || ws.readyState === WebSocket.CLOSED) {
            clearTimeout(timer);
            ws.off('message', check);
            ws.off('close', check);
            resolve();
          }
        };
        ws.on('message', check);
        ws.on('close', check);
        check();
      });
      const closedByServer = ws.readyState === WebSocket.CLOSED;
      ws.terminate();
      const text = JSON.stringify(messages);
      expect(text, frames.join(' | ')).not.toContain('INTERNAL_SERVER_ERROR');
      expect(text).not.toContain('"stack"');
      const probeAnswer = messages.find((m) => (m as { id?: unknown }).id === 'probe');
      // Bad frames get errors, not a closed connection: the next good call is answered.
      expect(closedByServer, frames.join(' | ')).toBe(false);
      expect(probeAnswer).toHaveProperty('result');
    }),
    { numRuns: 60, seed: Number(process.env.FUZZ_SEED ?? 13), endOnFailure: true },
  );
  expect(server.session.listPolls()).toEqual([]);
  expect(Object.keys((await probe.ledger()).polls)).toEqual([]);
  expect(server.session.workerRestarts).toBe(0);
});
