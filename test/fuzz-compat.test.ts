import { FailureResponse } from '@pollmasters/shared';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sessionStatus } from './helpers/wait.js';

let server: TestServer;
let url: string;
let probe: SandboxProbe;
let chatIds: string[];

beforeAll(async () => {
  server = await startTestServer({ sandbox: { autoVote: false } });
  url = `http://127.0.0.1:${server.port}`;
  probe = new SandboxProbe(server.sandboxChannel);
  await sessionStatus(server.session);
  chatIds = (await server.session.listChats()).map((c) => c.id);
});
afterAll(async () => {
  probe.close();
  await server.destroy();
});

/** Strings that tend to break parsers and validators. */
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '__proto__',
    'constructor',
    '@',
    'a@',
    '@g.us',
    '💥'.repeat(70),
  ),
  fc.string({ minLength: 250, maxLength: 300 }),
);
const jsonValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), nasty);

/** A `/send-poll` body near the contract: every field valid, mutated, missing or extra. */
const sendPollBody = fc.record(
  {
    chatId: fc.oneof(
      fc.constant(null).map(() => chatIds[0] ?? ''),
      nasty,
      jsonValue,
    ),
    question: fc.oneof(fc.constant('Lunch?'), nasty, jsonValue),
    options: fc.oneof(
      fc.array(fc.oneof(fc.constantFrom('a', 'b', 'c'), nasty), { maxLength: 14 }),
      jsonValue,
    ),
    allowMultipleAnswers: fc.oneof(fc.boolean(), jsonValue),
    extra: jsonValue,
  },
  { requiredKeys: [] },
);

/** What a careless or hostile client may send to a compat route. */
const request = fc.oneof(
  fc.record({
    method: fc.constant('POST'),
    path: fc.constant('/send-poll'),
    contentType: fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      '',
    ),
    body: fc.oneof(
      sendPollBody.map((b) => JSON.stringify(b)),
      jsonValue.map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 }),
    ),
  }),
  fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
    path: fc.oneof(
      fc.constantFrom(
        '/status',
        '/get-chats',
        '/get-all-poll-data',
        '/sandbox/ledger',
        '/send-poll/',
        '/%',
        '/..%2f..%2fetc/passwd',
      ),
      fc.webPath(),
    ),
    contentType: fc.constantFrom('application/json', 'text/plain'),
    body: fc.oneof(fc.constant(''), fc.string({ maxLength: 100 })),
  }),
  // A logout may only go through with a well-formed request: malformed JSON must not log out.
  fc.record({
    method: fc.constant('POST'),
    path: fc.constant('/logout'),
    contentType: fc.constant('application/json'),
    body: fc.string({ minLength: 1, maxLength: 60 }).filter((s) => {
      try {
        JSON.parse(s);
        return false;
      } catch {
        return true;
      }
    }),
  }),
);

it('never crashes, never answers 5xx, and stores nothing it rejected', async () => {
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(request, async ({ method, path, contentType, body }) => {
      const withBody = method !== 'GET';
      const res = await fetch(`${url}${path}`, {
        method,
        headers: contentType ? { 'content-type': contentType } : {},
        ...(withBody ? { body } : {}),
      });
      const text = await res.text();
      expect(res.status, `${method} ${path} ${body}`).toBeLessThan(500);
      // The web dashboard's page (issue #20) is HTML; every other answer is JSON.
      const dashboard = method === 'GET' && ['', '/', '/index.html'].includes(path);
      const json = dashboard ? null : (JSON.parse(text) as unknown);
      if (dashboard) {
        expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      } else if (res.status >= 400) {
        expect(FailureResponse.parse(json).message.length).toBeGreaterThan(0);
      } else if (path === '/send-poll' && method === 'POST') {
        accepted += 1;
      }
      expect(server.session.listPolls()).toHaveLength(accepted);
      expect(server.session.sessionState.status).toBe('ready');
    }),
    { numRuns: 300, seed: Number(process.env.FUZZ_SEED ?? 7), endOnFailure: true },
  );
  // Nothing rejected reached (simulated) WhatsApp either.
  expect(Object.keys((await probe.ledger()).polls)).toHaveLength(accepted);
  expect(server.session.workerRestarts).toBe(0);
});
