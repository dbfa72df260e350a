import type { OpenApiDocument } from '@pollmasters/api';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentedCalls, filledPath } from './helpers/documentedCalls.js';
import { expressRoutes } from './helpers/expressRoutes.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sessionStatus, until } from './helpers/wait.js';
import { WebhookReceiver } from './helpers/webhookReceiver.js';

// Issue 19: the OpenAPI 3.1 document at /openapi.json is valid, every documented route answers
// as it says (successes and failures, checked with ajv against its schemas), and every route
// the server has is in it.

const KEY = 'openapi-test-server-key-0123';
/** A JSON body over the 64 KiB limit. */
const tooLarge = `"${'x'.repeat(70_000)}"`;

/** Routes the server has that the document leaves out on purpose (see its description). */
const undocumented = [
  /^USE \/trpc$/, // tRPC, with its typed client: not an OpenAPI API
  /^(GET|POST) \/sandbox\//, // the simulated network's instruments, only with --sandbox
  /^GET \/docs\/.+$/, // the reference page's own files
  /^GET \/(index\.html|assets\/\{name\})$/, // the dashboard's own files (its page is at /)
];

let server: TestServer;
let doc: OpenApiDocument;
let calls: ReturnType<typeof documentedCalls>;
/** Calls to `server`, with its key. */
let call: ReturnType<ReturnType<typeof documentedCalls>['at']>;

beforeAll(async () => {
  server = await startTestServer({
    // Two sessions at most: `default` and the one the sessions test creates.
    config: { apiKey: KEY, webhookAllow: '127.0.0.1', maxSessions: 2 },
    sandbox: { autoVote: false },
  });
  await sessionStatus(server.session, 'ready', 15_000);
  // Public: fetched without the key.
  const res = await fetch(`${server.url}/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as OpenApiDocument;
  calls = documentedCalls(doc);
  call = calls.at(server.url, KEY);
});
afterAll(() => server?.destroy());

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(structuredClone(doc) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes).toMatchObject({
      ApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      Bearer: { type: 'http', scheme: 'bearer' },
    });
  });

  it('describes every route the server answers, and no route it does not', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const served = expressRoutes(server.app).filter((r) => !undocumented.some((u) => u.test(r)));
    expect(served.length).toBeGreaterThan(20);
    expect(
      served.filter((r) => !documented.includes(r)),
      'served, not documented',
    ).toEqual([]);
    expect(
      documented.filter((r) => !served.includes(r)),
      'documented, not served',
    ).toEqual([]);
  });
});

describe('every documented route answers as the document says', () => {
  it('refuses a missing key (401) on every route but the document and its page', async () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const { operationId, security } = op as { operationId: string; security?: unknown[] };
        const isPublic = Array.isArray(security) && security.length === 0;
        await call(operationId, filledPath(path), isPublic ? 200 : 401, {
          method: method.toUpperCase(),
          key: null,
        });
      }
    }
  });

  it('compat routes, voting and the exports', async () => {
    const status = await call('getStatus', '/status', 200);
    expect(status.body).toMatchObject({ status: 'ready', user: { id: expect.any(String) } });
    const chats = await call('getChats', '/get-chats', 200);
    const chatId = (chats.body as { chats: { id: string }[] }).chats[0]!.id;
    const poll = { chatId, question: 'Lunch?', options: ['Pizza', 'Soup'] };
    const sent = await call('sendPoll', '/send-poll', 200, {
      method: 'POST',
      body: { ...poll, allowMultipleAnswers: false },
    });
    const pollId = (sent.body as { pollMsgId: string }).pollMsgId;
    const post = { method: 'POST' };
    const multi = { ...poll, allowMultipleAnswers: true };
    await call('sendPoll', '/send-poll', 400, { ...post, body: { ...multi, options: [] } });
    await call('sendPoll', '/send-poll', 400, { ...post, body: poll }); // no allowMultipleAnswers
    await call('sendPoll', '/send-poll', 400, { ...post, rawBody: '{"chatId":' });
    await call('sendPoll', '/send-poll', 404, {
      ...post,
      body: { ...multi, chatId: '999999999@g.us' },
    });
    await call('sendPoll', '/send-poll', 413, { ...post, rawBody: tooLarge });
    // The compat logout reads a JSON body too (and does nothing with a bad one).
    await call('logout', '/logout', 400, { ...post, rawBody: '{"x":' });
    await call('logout', '/logout', 413, { ...post, rawBody: tooLarge });
    expect(server.session.sessionState.status).toBe('ready');
    const all = await call('getAllPollData', '/get-all-poll-data', 200);
    expect(Object.keys((all.body as { polls: object }).polls)).toContain(pollId);

    const vote = `/api/polls/${pollId}/vote`;
    const voted = await call('votePoll', vote, 200, { ...post, body: { options: ['Pizza'] } });
    expect(voted.body).toMatchObject({
      poll: { id: pollId, voters: [{ selected: [expect.any(String)] }] },
    });
    await call('votePoll', vote, 400, { ...post, body: { options: ['Pasta'] } });
    await call('votePoll', `${vote}?session=Not%20an%20id`, 400, {
      ...post,
      body: { options: [] },
    });
    await call('votePoll', '/api/polls/NOPE/vote', 404, { ...post, body: { options: [] } });
    await call('votePoll', `${vote}?session=nope`, 404, { ...post, body: { options: [] } });

    const csv = await call('exportPollCsv', `/polls/${pollId}/export.csv`, 200);
    expect(csv.body).toMatch(/^\uFEFFvoter,name,voted_at,Pizza,Soup\r\n/);
    await call('exportPollCsv', '/polls/NOPE/export.csv', 404);
    const json = await call('exportPollJson', `/polls/${pollId}/export.json`, 200);
    expect(json.body).toMatchObject({
      poll: { id: pollId },
      options: [
        { name: 'Pizza', count: 1 },
        { name: 'Soup', count: 0 },
      ],
    });
    await call('exportPollJson', '/polls/NOPE/export.json', 404);
  });

  it('sessions, health and metrics, with the server key and a session key', async () => {
    const post = { method: 'POST' };
    await call('listSessions', '/api/sessions', 200);
    const created = await call('createSession', '/api/sessions', 201, {
      ...post,
      body: { id: 's2', start: true, scopedKey: true },
    });
    const s2Key = (created.body as { apiKey: string }).apiKey;
    await call('createSession', '/api/sessions', 409, { ...post, body: { id: 's2' } });
    await call('createSession', '/api/sessions', 400, { ...post, body: { id: 'Not an id' } });
    await call('createSession', '/api/sessions', 403, { ...post, key: s2Key, body: { id: 's3' } });
    await call('createSession', '/api/sessions', 429, { ...post, body: { id: 's3' } });
    await sessionStatus(server.sessions.require('s2').service, 'ready', 15_000);

    await call('getSession', '/api/sessions/s2', 200);
    await call('getSession', '/api/sessions/s2', 200, { key: s2Key });
    await call('getSession', '/api/sessions/default', 403, { key: s2Key });
    await call('getSession', '/api/sessions/nope', 404);
    await call('getSession', '/api/sessions/Not%20an%20id', 400);
    const own = await call('listSessions', '/api/sessions', 200, { key: s2Key });
    expect((own.body as { sessions: { id: string }[] }).sessions.map((s) => s.id)).toEqual(['s2']);

    await call('loginSession', '/api/sessions/s2/login', 200, { ...post, body: {} });
    await call('loginSession', '/api/sessions/s2/login', 400, {
      ...post,
      body: { phoneNumber: 'abc' },
    });
    // Not the object the document says (it was read as {0: ...} and answered with the QR).
    await call('loginSession', '/api/sessions/s2/login', 400, { ...post, body: ['491701234567'] });
    await call('logoutSession', '/api/sessions/s2/logout', 200, post);
    await call('stopSession', '/api/sessions/s2/stop', 200, post);
    await call('startSession', '/api/sessions/s2/start', 200, post);
    await call('startSession', '/api/sessions/nope/start', 404, post);
    // Every POST and DELETE under /api reads a JSON body, even one that takes none.
    await call('stopSession', '/api/sessions/s2/stop', 400, { ...post, rawBody: '{"x":' });
    await call('stopSession', '/api/sessions/s2/stop', 413, { ...post, rawBody: tooLarge });
    await call('startSession', '/api/sessions/s2/start', 413, { ...post, rawBody: tooLarge });
    await call('logoutSession', '/api/sessions/s2/logout', 413, { ...post, rawBody: tooLarge });
    await call('rotateSessionKey', '/api/sessions/s2/key', 413, { ...post, rawBody: tooLarge });
    await call('deleteSession', '/api/sessions/s2', 413, { method: 'DELETE', rawBody: tooLarge });
    await call('createSession', '/api/sessions', 400, { ...post, rawBody: '{"id":' });
    const rotated = await call('rotateSessionKey', '/api/sessions/s2/key', 200, post);
    expect((rotated.body as { apiKey: string }).apiKey).not.toBe(s2Key);
    await call('listSessions', '/api/sessions', 401, { key: s2Key });
    const newKey = (rotated.body as { apiKey: string }).apiKey;

    // The compat routes, health and metrics serve `default` or every session: not s2's key.
    await call('getStatus', '/status', 403, { key: newKey });
    await call('getHealth', '/healthz', 403, { key: newKey });
    await call('getMetrics', '/metrics', 403, { key: newKey });
    await call('votePoll', '/api/polls/p/vote', 403, {
      ...post,
      key: newKey,
      body: { options: [] },
    });
    const health = await call('getHealth', '/healthz', [200, 503]);
    expect((health.body as { sessions: { id: string }[] }).sessions.map((s) => s.id)).toEqual([
      'default',
      's2',
    ]);
    await call('getHealthAlias', '/health', [200, 503]);
    const metrics = await call('getMetrics', '/metrics', 200);
    expect(metrics.body).toContain('pollmasters_sessions 2');

    const del = { method: 'DELETE' };
    await call('deleteSession', '/api/sessions/s2?purge=maybe', 400, del);
    await call('deleteSession', '/api/sessions/default', 409, del);
    await call('deleteSession', '/api/sessions/s2?purge=true', 200, del);
    await call('deleteSession', '/api/sessions/s2', 404, del);
    await call('rotateSessionKey', '/api/sessions/s2/key', 404, post);
  });

  it('while WhatsApp is not connected: the QR, 409s, and the compat logout', async () => {
    // A server whose simulated phone never scans: it stays at its QR.
    const waiting = await startTestServer({ sandbox: { qrScanDelayMs: 600_000 } });
    try {
      await sessionStatus(waiting.session, 'qr_pending');
      const call = calls.at(waiting.url, null);
      const status = await call('getStatus', '/status', 200);
      expect(status.body).toEqual({ status: 'qr_pending', qrCode: expect.any(String) });
      await call('getChats', '/get-chats', 409);
      const poll = { chatId: '1@g.us', question: 'Q', options: ['A', 'B'] };
      await call('sendPoll', '/send-poll', 409, {
        method: 'POST',
        body: { ...poll, allowMultipleAnswers: true },
      });
      await call('logout', '/logout', 200, { method: 'POST' });
    } finally {
      await waiting.destroy();
    }
  });

  it('webhooks: every route, and each event as delivered matches the document', async () => {
    const receiver = new WebhookReceiver();
    const url = await receiver.start();
    try {
      const hooks = '/api/sessions/default/webhooks';
      const post = { method: 'POST' };
      const created = await call('createWebhook', hooks, 201, { ...post, body: { url } });
      await call('createWebhook', hooks, 400, { ...post, body: { url: 'ftp://x' } });
      await call('createWebhook', '/api/sessions/nope/webhooks', 404, { ...post, body: { url } });
      const one = `${hooks}/${(created.body as { id: string }).id}`;
      await call('listWebhooks', hooks, 200);
      await call('getWebhook', one, 200);
      await call('getWebhook', `${hooks}/ep_nope`, 404);
      await call('getWebhook', `${hooks}/nope`, 400);
      await call('updateWebhook', one, 200, { method: 'PATCH', body: { paused: false } });
      await call('updateWebhook', one, 400, { method: 'PATCH', body: {} });
      await call('rotateWebhookSecret', `${one}/secret`, 200, post);
      // Events: a poll sent, a vote on it, and a status change.
      const chats = await call('getChats', '/get-chats', 200);
      const chatId = (chats.body as { chats: { id: string }[] }).chats[0]!.id;
      const poll = {
        chatId,
        question: 'Hooked?',
        options: ['Yes', 'No'],
        allowMultipleAnswers: true,
      };
      const sent = await call('sendPoll', '/send-poll', 200, { ...post, body: poll });
      const pollId = (sent.body as { pollMsgId: string }).pollMsgId;
      await call('votePoll', `/api/polls/${pollId}/vote`, 200, {
        ...post,
        body: { options: ['Yes'] },
      });
      await call('logoutSession', '/api/sessions/default/logout', 200, post);
      const types = ['poll.sent', 'poll.vote', 'session.status'];
      await until(
        receiver,
        'request',
        () =>
          types.every((t) => receiver.received.some((r) => r.event.type === t)) ? true : undefined,
        `events ${types}`,
        15_000,
      );
      for (const r of receiver.received) calls.checkEvent(r.event.type, JSON.parse(r.body));
      const deliveries = await call('listWebhookDeliveries', `${one}/deliveries?limit=10`, 200);
      expect((deliveries.body as { deliveries: unknown[] }).deliveries.length).toBeGreaterThan(0);
      // The list, now with deliveries to count, still answers as the document says.
      const listed = await call('listWebhooks', hooks, 200);
      const [counted] = (listed.body as { endpoints: { deliveries: { delivered: number } }[] })
        .endpoints;
      expect(counted!.deliveries.delivered).toBeGreaterThan(0);
      await call('listWebhookDeliveries', `${one}/deliveries?limit=0`, 400);
      await call('replayWebhook', `${one}/replay`, 200, { ...post, body: {} });
      await call('deleteWebhook', one, 200, { method: 'DELETE' });
      await call('deleteWebhook', one, 404, { method: 'DELETE' });
    } finally {
      await receiver.close();
    }
  });

  it('every documented operation was seen to succeed', () => {
    const succeeded = calls.operationIds.filter((id) =>
      [...(calls.seen.get(id) ?? [])].some((s) => s >= 200 && s < 300),
    );
    expect(succeeded.sort()).toEqual([...calls.operationIds].sort());
  });
});
