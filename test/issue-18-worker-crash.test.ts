import { type SessionService, sandboxChannelOf } from '@pollmasters/api';
import { afterEach, expect, it } from 'vitest';
import { countedAsLedger } from './helpers/ledger.js';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sessionStatus, until } from './helpers/wait.js';

// Issue 18: sessions on a pool of workers. One worker is killed while every session is
// counting votes: its sessions come back with it, the other worker's never stop counting.

let server: TestServer | undefined;
const probes: SandboxProbe[] = [];
afterEach(async () => {
  for (const p of probes.splice(0)) p.close();
  await server?.destroy();
  server = undefined;
});

/** Sends one poll to every chat of the session, and returns their ids. */
const pollEveryChat = async (session: SessionService, label: string) => {
  const ids: string[] = [];
  for (const chat of await session.listChats()) {
    const poll = await session.sendPoll({
      chatId: chat.id,
      question: `${label}: ${chat.name}?`,
      options: ['Red', 'Green', 'Blue'],
      selectableCount: 0,
    });
    ids.push(poll.id);
  }
  return ids;
};

it('a killed worker comes back with its sessions; the sessions of the other one count on without a gap', async () => {
  server = await startTestServer({
    config: { workers: 2 },
    sandbox: { voteDelayMs: { min: 100, max: 1_500 }, membersPerGroup: 8 },
  });
  const running = server;
  for (const id of ['alpha', 'beta', 'gamma']) {
    await running.sessions.create({ id });
    await running.sessions.start(id);
  }
  const sessions = running.sessions.list().map((s) => s.service);
  expect(sessions).toHaveLength(4);
  await Promise.all(sessions.map((s) => sessionStatus(s, 'ready', 15_000)));
  // Least loaded placement: two sessions on each worker.
  const onWorker = (i: number) =>
    sessions.filter((s) => s.hostedOn === running.sessions.pool.workers[i]);
  expect(onWorker(0)).toHaveLength(2);
  expect(onWorker(1)).toHaveLength(2);

  // Each session has a world of its own: other people, other chats.
  const chatIds = await Promise.all(
    sessions.map(async (s) => (await s.listChats()).map((c) => c.id).join()),
  );
  expect(new Set(chatIds).size).toBe(4);

  const polls = new Map<SessionService, string[]>();
  for (const s of sessions) polls.set(s, await pollEveryChat(s, s.sessionId));

  const killed = onWorker(0);
  const survivors = onWorker(1);
  const survivorUpdates = new Map(survivors.map((s) => [s, 0]));
  const survivorExits: string[] = [];
  for (const s of survivors) {
    s.on('pollsUpdated', () => survivorUpdates.set(s, survivorUpdates.get(s)! + 1));
    s.on('workerExit', () => survivorExits.push(s.sessionId));
  }
  // Mid-vote: the sandbox is still casting on every session's polls.
  await killed[0]!.killWorker();
  await Promise.all(
    killed.map((s) =>
      until(s, 'workerExit', () => (s.workerRestarts === 1 ? true : undefined), 'exit'),
    ),
  );
  expect(killed.every((s) => s.workerState === 'restarting')).toBe(true);
  // While the killed worker is down, the others keep counting.
  const updatesAtKill = new Map(survivorUpdates);
  await Promise.all(
    survivors.map((s) =>
      until(
        s,
        'pollsUpdated',
        () => (survivorUpdates.get(s)! > updatesAtKill.get(s)! ? true : undefined),
        `votes on ${s.sessionId} while the other worker is down`,
      ),
    ),
  );
  expect(killed.every((s) => s.workerState === 'restarting')).toBe(true);
  await Promise.all(
    killed.map((s) =>
      until(s, 'state', () => (s.workerState === 'running' ? true : undefined), 'its restart'),
    ),
  );
  await Promise.all(killed.map((s) => sessionStatus(s, 'ready', 15_000)));
  expect(survivorExits).toEqual([]);
  expect(survivors.every((s) => s.workerState === 'running' && s.workerRestarts === 0)).toBe(true);

  // Every count of every session equals its own sandbox ledger.
  for (const s of sessions) {
    const probe = new SandboxProbe(sandboxChannelOf(running.sessions.config, s.sessionId));
    probes.push(probe);
    await countedAsLedger(s, probe, polls.get(s)!, 30_000);
  }

  // Over HTTP too, each session's own ledger: `?session=` picks it.
  const alpha = polls.get(running.sessions.require('alpha').service)!;
  const ledger = async (query: string) => {
    const res = await fetch(`${running.url}/sandbox/ledger${query}`);
    return { status: res.status, body: (await res.json()) as { polls?: object } };
  };
  const own = await ledger('?session=alpha');
  expect(Object.keys(own.body.polls ?? {}).sort()).toEqual([...alpha].sort());
  const fallback = await ledger('');
  expect(Object.keys(fallback.body.polls ?? {})).not.toContain(alpha[0]);
  expect((await ledger('?session=nobody')).status).toBe(404);
  expect((await ledger('?session=Not%20an%20id')).status).toBe(400);
});
