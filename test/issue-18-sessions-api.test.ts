import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createPollMastersClient, listAllPolls, type PollMastersClient } from '@pollmasters/client';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { sessionPaths } from './helpers/dataDir.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sessionStatus, until } from './helpers/wait.js';

// Issue 18: sessions over tRPC and HTTP; every refusal changes nothing.

let server: TestServer | undefined;
const clients: PollMastersClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.destroy();
  server = undefined;
});

const registryOf = (s: TestServer) => readFileSync(join(s.dataDir, 'sessions.json'), 'utf8');

describe('sessions over tRPC', () => {
  it('creates, starts, lists, stops and deletes; refuses bad, unknown, duplicate and one too many', async () => {
    server = await startTestServer({ config: { maxSessions: 3 } });
    const running = server;
    const client = createPollMastersClient({ url: running.url });
    clients.push(client);
    expect((await client.sessions.list.query()).map((s) => s.id)).toEqual(['default']);

    const events: unknown[] = [];
    const subscription = client.sessions.events.subscribe(undefined, {
      onData: (e) => events.push(e.data),
    });

    const shop = await client.sessions.create.mutate({ id: 'shop', start: true });
    expect(shop).toMatchObject({ id: 'shop', shouldRun: true, run: 'running' });
    await sessionStatus(running.sessions.require('shop').service, 'ready', 15_000);
    expect((await client.sessions.get.query({ id: 'shop' })).status).toBe('ready');

    // Each session answers for itself; without a session id, `default` answers as before.
    const shopChats = await client.chats.list.query({ sessionId: 'shop' });
    const defaultChats = await client.chats.list.query();
    expect(shopChats.map((c) => c.id)).not.toEqual(defaultChats.map((c) => c.id));
    const poll = await client.polls.send.mutate({
      chatIds: [defaultChats[0]!.id],
      question: 'Default only?',
      options: ['Yes', 'No'],
    });
    expect(poll.sent).toBe(1);
    expect((await listAllPolls(client)).map((p) => p.question)).toEqual(['Default only?']);
    expect(await client.polls.list.query({ sessionId: 'shop' })).toEqual({
      polls: [],
      nextCursor: null,
    });
    await expect(
      client.polls.get.query({ id: poll.results[0]!.pollId!, sessionId: 'shop' }),
    ).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });

    // Sends, poll updates and session events of a named session are that session's.
    const shopUpdates: Array<{ type: string }> = [];
    const updates = client.polls.updates.subscribe(
      { sessionId: 'shop', snapshot: false },
      { onData: (e) => shopUpdates.push(e.data) },
    );
    const shopStates: Array<{ state: { status: string } }> = [];
    const states = client.session.events.subscribe(
      { sessionId: 'shop' },
      { onData: (e) => shopStates.push(e.data) },
    );
    const inShop = await client.polls.send.mutate({
      sessionId: 'shop',
      chatIds: [shopChats[0]!.id],
      question: 'Shop only?',
      options: ['Yes', 'No'],
    });
    expect(inShop.sent).toBe(1);
    expect((await listAllPolls(client, { sessionId: 'shop' })).map((p) => p.question)).toEqual([
      'Shop only?',
    ]);
    expect((await listAllPolls(client)).map((p) => p.question)).toEqual(['Default only?']);
    await expect.poll(() => shopUpdates.some((e) => e.type === 'pollSent')).toBe(true);
    await expect.poll(() => shopStates[0]?.state.status).toBe('ready');
    updates.unsubscribe();
    states.unsubscribe();

    const before = registryOf(running);
    await expect(client.sessions.create.mutate({ id: 'shop' })).rejects.toMatchObject({
      data: { code: 'CONFLICT' },
    });
    await expect(client.sessions.create.mutate({ id: 'Not OK!' })).rejects.toMatchObject({
      data: { code: 'BAD_REQUEST' },
    });
    await expect(client.sessions.get.query({ id: 'nobody' })).rejects.toMatchObject({
      data: { code: 'NOT_FOUND' },
    });
    await expect(client.sessions.start.mutate({ id: 'nobody' })).rejects.toMatchObject({
      data: { code: 'NOT_FOUND' },
    });
    await expect(client.chats.list.query({ sessionId: 'nobody' })).rejects.toMatchObject({
      data: { code: 'NOT_FOUND' },
    });
    expect(registryOf(running)).toBe(before);
    await client.sessions.create.mutate({ id: 'spare' });
    const full = registryOf(running);
    await expect(client.sessions.create.mutate({ id: 'fourth' })).rejects.toMatchObject({
      message: expect.stringMatching(/maximum of 3 sessions/),
      data: { code: 'TOO_MANY_REQUESTS', pollmastersCode: 'QUOTA_EXCEEDED' },
    });
    expect(registryOf(running)).toBe(full);
    expect((await client.sessions.list.query()).map((s) => s.id).sort()).toEqual([
      'default',
      'shop',
      'spare',
    ]);

    // A login of a session not started shows no QR yet; started, it offers one.
    expect(await client.sessions.login.mutate({ id: 'spare' })).toEqual({
      method: 'qr',
      status: 'disconnected',
      qr: null,
    });

    const stopped = await client.sessions.stop.mutate({ id: 'shop' });
    expect(stopped).toMatchObject({ run: 'stopped', shouldRun: false });
    await expect(client.chats.list.query({ sessionId: 'shop' })).rejects.toMatchObject({
      data: { code: 'SERVICE_UNAVAILABLE' },
    });
    await client.sessions.delete.mutate({ id: 'spare' });
    await expect(client.sessions.delete.mutate({ id: 'default' })).rejects.toMatchObject({
      data: { code: 'CONFLICT' },
    });
    expect((await client.sessions.list.query()).map((s) => s.id).sort()).toEqual([
      'default',
      'shop',
    ]);
    await expect
      .poll(() => events.some((e) => (e as { type: string; id?: string }).id === 'spare'))
      .toBe(true);
    subscription.unsubscribe();
    const created = events.filter((e) => (e as { type: string }).type === 'session') as Array<{
      session: { id: string };
    }>;
    expect(new Set(created.map((e) => e.session.id))).toEqual(
      new Set(['default', 'shop', 'spare']),
    );
  });
});

/** A JSON request to the server's `/api`. */
const api = async (s: TestServer, method: string, path: string, body?: object) => {
  const res = await fetch(`${s.url}/api${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

/** Every file under a folder with its size and mtime: what "untouched" means. */
const filesOf = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((name) => !name.endsWith('-shm'))
      .map((name) => {
        const stat = statSync(join(dir, name));
        return [name, stat.isDirectory() ? 'dir' : `${stat.size}@${stat.mtimeMs}`];
      }),
  );

describe('sessions over HTTP', () => {
  it('stops, starts, logs out and logs in a session under /api/sessions; default is left alone', async () => {
    server = await startTestServer({ sandbox: { autoVote: false } });
    const running = server;
    expect((await api(running, 'POST', '/sessions', { id: 'one', start: true })).status).toBe(201);
    const { service } = running.sessions.require('one');
    await sessionStatus(service, 'ready', 15_000);
    const [chat] = await service.listChats();
    const poll = await service.sendPoll({
      chatId: chat!.id,
      question: 'Still here?',
      options: ['A', 'B'],
      selectableCount: 1,
    });

    expect(await api(running, 'POST', '/sessions/one/stop')).toMatchObject({
      status: 200,
      body: { id: 'one', run: 'stopped' },
    });
    expect((await api(running, 'GET', '/sessions/one')).body).toMatchObject({ run: 'stopped' });
    // A stopped session's polls still read; the default session never noticed.
    expect(service.getPoll(poll.id)?.question).toBe('Still here?');
    expect(running.session.sessionState.status).toBe('ready');

    expect(await api(running, 'POST', '/sessions/one/start')).toMatchObject({
      status: 200,
      body: { id: 'one', run: 'running' },
    });
    await sessionStatus(service, 'ready', 15_000);

    // Logged out: the session says so, then offers a fresh login (the simulated phone scans
    // it again); its polls stay.
    const statuses: string[] = [];
    service.on('state', (state) => statuses.push(state.status));
    expect(await api(running, 'POST', '/sessions/one/logout')).toMatchObject({
      status: 200,
      body: { id: 'one' },
    });
    await until(
      service,
      'state',
      () => (statuses.includes('logged_out') ? true : undefined),
      'logged_out',
    );
    expect((await api(running, 'POST', '/sessions/one/login', {})).body).toMatchObject({
      method: 'qr',
    });
    expect(service.getPoll(poll.id)?.question).toBe('Still here?');
    expect((await api(running, 'POST', '/sessions/nope/logout')).status).toBe(404);
    expect(running.session.sessionState.status).toBe('ready');
  });

  it('creates and deletes under /api/sessions; a deletion touches nothing of another session', async () => {
    server = await startTestServer({
      config: { maxSessions: 3 },
      sandbox: { autoVote: false },
    });
    const running = server;
    for (const id of ['one', 'two']) {
      const created = await api(running, 'POST', '/sessions', { id, start: true });
      expect(created).toMatchObject({ status: 201, body: { id, run: 'running' } });
    }
    expect((await api(running, 'POST', '/sessions', { id: 'one' })).status).toBe(409);
    expect((await api(running, 'POST', '/sessions', { id: 'UPPER' })).status).toBe(400);
    expect((await api(running, 'POST', '/sessions', { id: 'three' })).body).toMatchObject({
      error: { code: 'QUOTA_EXCEEDED' },
    });
    expect((await api(running, 'POST', '/sessions', { id: 'three' })).status).toBe(429);
    expect((await api(running, 'GET', '/sessions/three')).status).toBe(404);
    expect((await api(running, 'DELETE', '/sessions/three')).status).toBe(404);
    expect((await api(running, 'DELETE', '/sessions/one?purge=maybe')).status).toBe(400);
    expect(
      (await api(running, 'POST', '/polls/x/vote?session=three', { options: [] })).status,
    ).toBe(404);
    const listed = await api(running, 'GET', '/sessions');
    expect((listed.body.sessions as Array<{ id: string }>).map((s) => s.id).sort()).toEqual([
      'default',
      'one',
      'two',
    ]);

    // A poll in every session, then the sessions other than the deleted one are left alone.
    const pollIn = async (id: string) => {
      const { service } = running.sessions.require(id);
      await sessionStatus(service, 'ready', 15_000);
      const [chat] = await service.listChats();
      return service.sendPoll({
        chatId: chat!.id,
        question: `In ${id}?`,
        options: ['A', 'B'],
        selectableCount: 1,
      });
    };
    const polls = Object.fromEntries(
      await Promise.all(['default', 'one', 'two'].map(async (id) => [id, await pollIn(id)])),
    );
    await running.sessions.stop('two');
    const dirOf = (id: string) => sessionPaths(running.dataDir, id).dir;
    const twoFiles = filesOf(dirOf('two'));
    const defaultPolls = running.session.listPolls();

    // Without purge: its login goes, its data stays.
    const loginRows = () => {
      const db = new Database(sessionPaths(running.dataDir, 'one').database, { readonly: true });
      const count = db.prepare('SELECT count(*) FROM auth_creds').pluck().get();
      db.close();
      return count;
    };
    expect(loginRows()).toBe(1);
    expect(await api(running, 'DELETE', '/sessions/one')).toMatchObject({
      status: 200,
      body: { id: 'one', purged: false },
    });
    const db = new Database(sessionPaths(running.dataDir, 'one').database, { readonly: true });
    // No creds and no keys: its login is gone (a worker that hosts it again starts fresh).
    expect(loginRows()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM auth_keys').pluck().get()).toBe(0);
    expect(db.prepare('SELECT question FROM polls').pluck().all()).toEqual(['In one?']);
    db.close();
    expect(filesOf(dirOf('two'))).toEqual(twoFiles);
    expect(running.session.listPolls()).toEqual(defaultPolls);

    // With purge: its folder goes.
    await running.sessions.start('two');
    expect(await api(running, 'DELETE', '/sessions/two?purge=true')).toMatchObject({
      status: 200,
      body: { id: 'two', purged: true },
    });
    expect(existsSync(dirOf('two'))).toBe(false);
    expect(existsSync(sessionPaths(running.dataDir, 'one').database)).toBe(true);
    expect(running.session.listPolls()).toEqual(defaultPolls);
    expect(running.session.getPoll(polls.default!.id)?.question).toBe('In default?');
    expect(JSON.parse(registryOf(running)).sessions.map((s: { id: string }) => s.id)).toEqual([
      'default',
    ]);
    expect(running.session.sessionState.status).toBe('ready');
  });
});
