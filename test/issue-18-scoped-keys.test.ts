import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPollMastersClient, listAllPolls, type PollMastersClient } from '@pollmasters/client';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sessionStatus } from './helpers/wait.js';

// Issue 18 "Access": a session's own API key sees and drives that session alone.

const KEY = 'correct-horse-battery-staple';

let server: TestServer;
let url: string;
const clients: PollMastersClient[] = [];
const client = (apiKey: string): PollMastersClient => {
  const c = createPollMastersClient({ url, apiKey });
  clients.push(c);
  return c;
};

const api = async (
  path: string,
  key: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await fetch(`${url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

/** Resolves with the error a Socket.IO connection is refused with, or 'connected'. */
const socketIoOutcome = (apiKey: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = connect(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { apiKey },
    });
    const timer = setTimeout(() => reject(new Error('no Socket.IO outcome in 10 s')), 10_000);
    const done = (outcome: string) => {
      clearTimeout(timer);
      socket.disconnect();
      resolve(outcome);
    };
    socket.once('connect', () => done('connected'));
    socket.once('connect_error', (err) => done(err.message));
  });

const forbidden = { data: { code: 'FORBIDDEN', pollmastersCode: 'FORBIDDEN' } };

let shopKey: string;
let farmKey: string;

beforeAll(async () => {
  server = await startTestServer({ config: { host: '0.0.0.0', apiKey: KEY } });
  url = `http://127.0.0.1:${server.port}`;
  const admin = client(KEY);
  const shop = await admin.sessions.create.mutate({ id: 'shop', start: true, scopedKey: true });
  const farm = await admin.sessions.create.mutate({ id: 'farm', scopedKey: true });
  shopKey = shop.apiKey ?? '';
  farmKey = farm.apiKey ?? '';
  await sessionStatus(server.sessions.require('shop').service, 'ready', 15_000);
});
afterAll(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.destroy();
});

describe('session keys', () => {
  it('are minted on create, shown once, and kept only as a hash', async () => {
    expect(shopKey).toMatch(/^pm_[A-Za-z0-9_-]{43}$/);
    expect(farmKey).not.toBe(shopKey);
    const admin = client(KEY);
    const got = await admin.sessions.get.query({ id: 'shop' });
    expect(got).not.toHaveProperty('apiKey');
    expect(got).not.toHaveProperty('keyHash');
    expect((await admin.sessions.list.query()).map((s) => Object.keys(s))).not.toContainEqual(
      expect.arrayContaining(['keyHash']),
    );
    const registry = readFileSync(join(server.dataDir, 'sessions.json'), 'utf8');
    expect(registry).not.toContain(shopKey);
    expect(registry).toMatch(/"keyHash": "[0-9a-f]{64}"/);
    // Without the flag, no key.
    const plain = await admin.sessions.create.mutate({ id: 'plain' });
    expect(plain).not.toHaveProperty('apiKey');
    await admin.sessions.delete.mutate({ id: 'plain' });
  });

  it('over HTTP, drive their own session and get 403 for any other', async () => {
    const own = await api('/api/sessions', shopKey);
    expect(own.status).toBe(200);
    expect((own.body.sessions as { id: string }[]).map((s) => s.id)).toEqual(['shop']);
    expect((await api('/api/sessions/shop', shopKey)).status).toBe(200);
    for (const [path, init] of [
      ['/api/sessions/farm', {}],
      ['/api/sessions/default', {}],
      ['/api/sessions/farm/start', { method: 'POST' }],
      ['/api/sessions/farm/key', { method: 'POST' }],
      ['/api/sessions/farm', { method: 'DELETE' }],
      ['/api/sessions', { method: 'POST', body: JSON.stringify({ id: 'mine' }) }],
      ['/api/polls/p1/vote?session=farm', { method: 'POST', body: '{"options":[]}' }],
    ] as const) {
      const answer = await api(path, shopKey, init);
      expect(answer.status, path).toBe(403);
      expect(answer.body, path).toMatchObject({ error: { code: 'FORBIDDEN' } });
    }
    expect(server.sessions.get('mine')).toBeUndefined();
    expect(server.sessions.require('farm').service.workerState).toBe('stopped');
  });

  it('over tRPC, drive their own session; others are FORBIDDEN, subscriptions too', async () => {
    const shop = client(shopKey);
    const chats = await shop.chats.list.query({ sessionId: 'shop' });
    expect(chats.length).toBeGreaterThan(0);
    const sent = await shop.polls.send.mutate({
      sessionId: 'shop',
      chatIds: [chats[0]!.id],
      question: 'Own session?',
      options: ['Yes', 'No'],
    });
    expect(sent.sent).toBe(1);
    expect((await listAllPolls(shop, { sessionId: 'shop' })).map((p) => p.question)).toEqual([
      'Own session?',
    ]);
    expect((await shop.sessions.list.query()).map((s) => s.id)).toEqual(['shop']);

    await expect(shop.polls.list.query({ sessionId: 'farm' })).rejects.toMatchObject(forbidden);
    // Without a session id a procedure acts on `default`: not this key's.
    await expect(shop.chats.list.query()).rejects.toMatchObject(forbidden);
    await expect(shop.sessions.get.query({ id: 'farm' })).rejects.toMatchObject(forbidden);
    await expect(shop.sessions.create.mutate({ id: 'mine' })).rejects.toMatchObject(forbidden);
    await expect(shop.sessions.delete.mutate({ id: 'farm' })).rejects.toMatchObject(forbidden);
    expect(server.sessions.get('farm')).toBeDefined();

    const refused = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer in 10 s')), 10_000);
      const sub = shop.polls.updates.subscribe(
        { sessionId: 'farm' },
        {
          onData: () => reject(new Error('got data of another session')),
          onError: (err) => {
            clearTimeout(timer);
            sub.unsubscribe();
            resolve(err);
          },
        },
      );
    });
    expect(refused).toMatchObject(forbidden);
  });

  it('on the compat API: only a key of default; any other gets 403 and no Socket.IO', async () => {
    const status = await fetch(`${url}/status`, { headers: { 'x-api-key': shopKey } });
    expect(status.status).toBe(403);
    expect(await status.json()).toMatchObject({ success: false });
    expect(await socketIoOutcome(shopKey)).toMatch(/another session/);
    expect(await socketIoOutcome(KEY)).toBe('connected');

    const admin = client(KEY);
    const { apiKey } = await admin.sessions.rotateKey.mutate({ id: 'default' });
    const own = await fetch(`${url}/status`, { headers: { 'x-api-key': apiKey } });
    expect(own.status).toBe(200);
    expect(await socketIoOutcome(apiKey)).toBe('connected');
    // Health and metrics tell of every session: even default's own key may not read them.
    for (const path of ['/healthz', '/metrics']) {
      expect((await fetch(`${url}${path}`, { headers: { 'x-api-key': apiKey } })).status).toBe(403);
      expect((await fetch(`${url}${path}`, { headers: { 'x-api-key': KEY } })).status).not.toBe(
        403,
      );
    }
  });

  it('rotate: the old key is refused (401), the new one works', async () => {
    const rotated = await api('/api/sessions/shop/key', shopKey, { method: 'POST' });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.apiKey as string;
    expect(fresh).not.toBe(shopKey);
    expect((await api('/api/sessions/shop', shopKey)).status).toBe(401);
    await expect(client(shopKey).sessions.list.query()).rejects.toMatchObject({
      data: { code: 'UNAUTHORIZED' },
    });
    expect((await api('/api/sessions/shop', fresh)).status).toBe(200);
    expect((await client(fresh).sessions.list.query()).map((s) => s.id)).toEqual(['shop']);
    shopKey = fresh;
  });

  it('delete removes the key', async () => {
    expect((await api('/api/sessions/farm', farmKey)).status).toBe(200);
    expect((await api('/api/sessions/farm', KEY, { method: 'DELETE' })).status).toBe(200);
    expect((await api('/api/sessions', farmKey)).status).toBe(401);
    expect(readFileSync(join(server.dataDir, 'sessions.json'), 'utf8')).not.toContain('"farm"');
  });
});

describe('without a server key', () => {
  it('refuses a session key: none is needed at all', async () => {
    const open = await startTestServer();
    try {
      const c = createPollMastersClient({ url: `http://127.0.0.1:${open.port}` });
      try {
        await expect(c.sessions.create.mutate({ id: 'shop', scopedKey: true })).rejects.toThrow(
          /no API key .* no key is needed at all/,
        );
        expect(open.sessions.get('shop')).toBeUndefined();
      } finally {
        c.close();
      }
    } finally {
      await open.destroy();
    }
  });
});
