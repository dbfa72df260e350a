import { sandboxChannelOf } from '@pollmasters/api';
import { afterEach, expect, it } from 'vitest';
import { metricsOf, sample } from './helpers/metrics.js';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { eventually, sessionStatus, until } from './helpers/wait.js';

// Issue 18: /healthz reports every session and is ready only when every started session's
// worker answers; /metrics labels each per-session series with its session.

let server: TestServer | undefined;
const probes: SandboxProbe[] = [];
afterEach(async () => {
  for (const p of probes.splice(0)) p.close();
  await server?.destroy();
  server = undefined;
});

interface Health {
  status: string;
  whatsapp: string;
  polls: number;
  sessions: {
    id: string;
    whatsapp: string;
    workerState: string;
    started: boolean;
    ready: boolean;
    votesCounted: number;
    polls: number;
    lastEventAt: string | null;
  }[];
}
const health = async (url: string, path = '/healthz') => {
  const res = await fetch(`${url}${path}`);
  return { status: res.status, body: (await res.json()) as Health };
};

it('reports each session, with the session as a label, and is ready only when every started session is', async () => {
  server = await startTestServer({
    config: { workers: 2 },
    sandbox: { groups: 1, membersPerGroup: 3, changeRate: 0, withdrawRate: 0 },
  });
  const running = server;
  await running.sessions.create({ id: 'shop' });
  await running.sessions.start('shop');
  await running.sessions.create({ id: 'idle' });
  const shop = running.sessions.require('shop').service;
  await Promise.all([sessionStatus(running.session, 'ready'), sessionStatus(shop, 'ready')]);
  // Two workers: default and shop run on different threads.
  expect(shop.hostedOn).not.toBe(running.session.hostedOn);

  // A poll on shop only; each member of the chat votes once (no changes, no withdrawals).
  const probe = new SandboxProbe(sandboxChannelOf(running.sessions.config, 'shop'));
  probes.push(probe);
  const chat = (await shop.listChats()).find((c) => c.isGroup)!;
  const poll = await shop.sendPoll({
    chatId: chat.id,
    question: 'Open on Sunday?',
    options: ['Yes', 'No'],
    selectableCount: 1,
  });
  const ledger = await probe.settled([poll.id]);
  const votes = Object.keys(ledger[poll.id]!).length;
  expect(votes).toBe(3);
  await until(
    shop,
    'pollsUpdated',
    () => (shop.votesCounted === votes ? true : undefined),
    'votes',
  );

  const text = await metricsOf(running);
  expect(sample(text, 'pollmasters_votes_accepted_total{session="shop"}')).toBe(votes);
  expect(sample(text, 'pollmasters_votes_accepted_total{session="default"}')).toBe(0);
  expect(sample(text, 'pollmasters_polls_sent_total{session="shop"}')).toBe(1);
  expect(sample(text, 'pollmasters_polls{session="shop"}')).toBe(1);
  expect(sample(text, 'pollmasters_polls{session="idle"}')).toBe(0);
  expect(sample(text, 'pollmasters_connection_state{session="shop",status="ready"}')).toBe(1);
  expect(sample(text, 'pollmasters_worker_state{session="idle",state="stopped"}')).toBe(1);
  expect(sample(text, 'pollmasters_sessions')).toBe(3);
  const lastEvent = sample(
    text,
    'pollmasters_session_last_event_timestamp_seconds{session="shop"}',
  );
  expect(Date.now() / 1000 - lastEvent).toBeLessThan(60);

  const ok = await health(running.url);
  expect(ok.status).toBe(200);
  expect(ok.body).toMatchObject({ status: 'ok', whatsapp: 'ready', polls: 0 });
  const byId = new Map(ok.body.sessions.map((s) => [s.id, s]));
  expect(byId.get('shop')).toMatchObject({
    whatsapp: 'ready',
    started: true,
    ready: true,
    votesCounted: votes,
    polls: 1,
  });
  expect(Date.parse(byId.get('shop')!.lastEventAt!)).toBeGreaterThan(Date.now() - 60_000);
  // A session never started does not hold readiness back.
  expect(byId.get('idle')).toMatchObject({ started: false, ready: false, lastEventAt: null });
  expect((await health(running.url, '/health')).status).toBe(200);

  // shop's worker dies: until it is back, the server is not ready, and says which session.
  await shop.killWorker();
  await until(shop, 'workerExit', () => (shop.workerRestarts === 1 ? true : undefined), 'exit');
  const down = await health(running.url);
  expect(down.status).toBe(503);
  expect(down.body.status).toBe('degraded');
  const downById = new Map(down.body.sessions.map((s) => [s.id, s]));
  expect(downById.get('shop')).toMatchObject({ started: true, ready: false });
  expect(downById.get('default')).toMatchObject({ ready: true });
  await sessionStatus(shop, 'ready', 15_000);
  await eventually('ready again', async () => (await health(running.url)).status === 200);
  expect(
    sample(await metricsOf(running), 'pollmasters_worker_restarts_total{session="shop"}'),
  ).toBe(1);

  // A deleted session's series go away; the others stay.
  await running.sessions.delete('shop', { purge: true });
  const after = await metricsOf(running);
  expect(after).not.toContain('session="shop"');
  expect(sample(after, 'pollmasters_votes_accepted_total{session="default"}')).toBe(0);
  expect((await health(running.url)).body.sessions.map((s) => s.id).sort()).toEqual([
    'default',
    'idle',
  ]);
});
