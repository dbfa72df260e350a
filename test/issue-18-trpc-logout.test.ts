import { createPollMastersClient, listAllPolls, type PollMastersClient } from '@pollmasters/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';
import { eventually, sessionStatus } from './helpers/wait.js';

// Issue 18: `sessions.logout` over tRPC (the REST one: issue-18-sessions-api.test.ts). The
// account is logged out of WhatsApp and must pair again; its polls stay; no other session
// notices; a session's own key logs out its session only.

const KEY = 'logout-test-server-key-0123';

let running: TestServer;
const clients: PollMastersClient[] = [];
/** A client of the server with this key. */
const client = (apiKey: string) => {
  const c = createPollMastersClient({ url: running.url, apiKey });
  clients.push(c);
  return c;
};
beforeAll(async () => {
  running = await startTestServer({ config: { apiKey: KEY }, sandbox: { autoVote: false } });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await running?.destroy();
});

it('logs a session out over tRPC: it pairs again, keeps its polls, and touches no other session', async () => {
  const admin = client(KEY);
  const created = await admin.sessions.create.mutate({ id: 'one', start: true, scopedKey: true });
  await admin.sessions.create.mutate({ id: 'two', start: true });
  const one = running.sessions.require('one').service;
  const two = running.sessions.require('two').service;
  await Promise.all([sessionStatus(one, 'ready', 15_000), sessionStatus(two, 'ready', 15_000)]);
  const own = client(created.apiKey!);
  const [chat] = await one.listChats();
  await own.polls.send.mutate({
    sessionId: 'one',
    chatIds: [chat!.id],
    question: 'Kept after logout?',
    options: ['Yes', 'No'],
  });

  // Refusals change nothing: another session's key, an unknown session.
  await expect(own.sessions.logout.mutate({ id: 'two' })).rejects.toMatchObject({
    data: { code: 'FORBIDDEN' },
  });
  await expect(admin.sessions.logout.mutate({ id: 'nope' })).rejects.toMatchObject({
    data: { code: 'NOT_FOUND' },
  });
  expect(two.sessionState.status).toBe('ready');

  // What the session's own subscriber sees: logged out, then a fresh QR to pair with (the
  // simulated phone scans it), then ready again.
  const seen: string[] = [];
  const events = own.session.events.subscribe(
    { sessionId: 'one' },
    { onData: (e) => seen.push(e.data.state.status) },
  );
  await eventually('the subscription sees the session ready', () => seen.includes('ready'));
  const info = await own.sessions.logout.mutate({ id: 'one' });
  expect(info).toMatchObject({ id: 'one', run: 'running' });
  await eventually('logged out, then a new QR, then ready', () => {
    const out = seen.indexOf('logged_out');
    const qr = seen.indexOf('qr_pending', out);
    return out >= 0 && qr > out && seen.indexOf('ready', qr) > qr;
  });
  events.unsubscribe();

  expect((await listAllPolls(admin, { sessionId: 'one' })).map((p) => p.question)).toEqual([
    'Kept after logout?',
  ]);
  expect(two.sessionState.status).toBe('ready');
  expect(running.session.sessionState.status).toBe('ready');
  expect(two.workerRestarts + one.workerRestarts).toBe(0);
});
