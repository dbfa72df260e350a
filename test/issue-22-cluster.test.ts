import type { PollMastersClient } from '@pollmasters/client';
import type { Poll } from '@pollmasters/shared';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnServer } from './helpers/childServer.js';
import { type Received, replayInOrder } from './helpers/pollUpdates.js';
import { ProcessCluster } from './helpers/processCluster.js';
import { testRedisUrl } from './helpers/services.js';
import { eventually } from './helpers/wait.js';

// Issue #22: three server processes on one PostgreSQL and one Redis are one cluster. Six sandbox
// sessions spread over them and vote; one node is SIGKILLed while its sessions vote, the others
// take them over within 15 s, every count equals its sandbox ledger, a tRPC client of the dead
// node resumes on another without a lost or doubled update, commands given to a node that does
// not own the session work, and a SIGTERMed node hands over at once and exits 0.

const ALL = ['node-1', 'node-2', 'node-3'];
let cluster: ProcessCluster;
const reader = (nodeId: string) => cluster.reader(nodeId);

/** Whether a replayed poll's voters are the counted poll's. */
const sameVoters = (voters: Map<string, readonly string[]>, poll: Poll) =>
  JSON.stringify([...voters].sort()) ===
  JSON.stringify(poll.voters.map((v) => [v.voter, v.selected]).sort());

/** Sends a poll to the session's first group through `nodeId`; its id. */
const sendPoll = async (client: PollMastersClient, sessionId: string, question: string) => {
  const group = (await client.chats.list.query({ sessionId })).find((c) => c.isGroup);
  if (!group) throw new Error(`${sessionId} has no group`);
  const sent = await client.polls.send.mutate({
    sessionId,
    chatIds: [group.id],
    question,
    options: ['Yes', 'No', 'Maybe'],
  });
  expect(sent).toMatchObject({ sent: 1, failed: 0 });
  return sent.results[0]!.pollId!;
};

beforeAll(async () => {
  cluster = await ProcessCluster.create('issue_22_cluster', 6);
  // Together, as a cluster starts: the PG migrations and the session records race.
  await Promise.all(ALL.map((nodeId) => cluster.start(nodeId)));
}, 60_000);

afterAll(async () => {
  await cluster?.close();
});

/** The session `id` as each node describes it (undefined where it is not known). */
const described = (id: string, nodeIds: string[]) =>
  Promise.all(
    nodeIds.map(async (nodeId) =>
      (await reader(nodeId).sessions.list.query()).find((s) => s.id === id),
    ),
  );

it('a session created, started, stopped, given a new key and deleted through one node is so on every node', {
  timeout: 60_000,
}, async () => {
  const all = ALL;
  await cluster.allRunning(all, 30_000);
  // `start` answers once a node took it: the answer names that node.
  const created = await reader('node-2').sessions.create.mutate({
    id: 'extra',
    start: true,
    scopedKey: true,
  });
  expect(created.node).toMatch(/^node-[123]$/);
  expect(['starting', 'running']).toContain(created.run);
  // Its own key works on every node (and sees only it); a new key made on node-1 replaces it
  // on node-3 too.
  const sees = async (nodeId: string, key: string) => {
    const res = await fetch(`${cluster.url(nodeId)}/api/sessions`, {
      headers: { 'x-api-key': key },
    });
    if (res.status !== 200) throw new Error(`${nodeId}: ${res.status}`);
    return ((await res.json()) as { sessions: { id: string }[] }).sessions.map((s) => s.id);
  };
  await eventually(
    'its key known to every node',
    async () => (await Promise.all(all.map((n) => sees(n, created.apiKey!)))).flat(),
    10_000,
    100,
  ).then((ids) => expect(ids).toEqual(['extra', 'extra', 'extra']));
  const rotated = await reader('node-1').sessions.rotateKey.mutate({ id: 'extra' });
  await eventually(
    'the old key refused on node-3',
    () =>
      sees('node-3', created.apiKey!).then(
        () => false,
        // Refused as a wrong key, not as any failure (a node down, a 500).
        (err: Error) => err.message === 'node-3: 401',
      ),
    10_000,
    100,
  );
  expect(await sees('node-3', rotated.apiKey)).toEqual(['extra']);
  // Known everywhere, run by one node, and every node says which.
  const running = await eventually(
    'extra running, as every node says',
    async () => {
      const views = await described('extra', all);
      const node = views[0]?.node;
      return (
        node &&
        views.every((v) => v?.run === 'running' && v.node === node && v.status === 'ready') &&
        node
      );
    },
    20_000,
    100,
  );
  expect((await cluster.owners(['extra'])).extra).toBe(running);
  // Stopped through another node: its owner stops it, nobody runs it.
  const other = all.find((n) => n !== running)!;
  const stopped = await reader(other).sessions.stop.mutate({ id: 'extra' });
  expect(stopped).toMatchObject({ run: 'stopped', shouldRun: false });
  expect(stopped.node).toBeUndefined();
  expect((await cluster.owners(['extra'])).extra).toBeNull();
  await eventually(
    'extra stopped, as every node says',
    async () => (await described('extra', all)).every((v) => v?.run === 'stopped' && !v.node),
    10_000,
    100,
  );
  // Started and deleted through the third: the owner stops first, then it is gone everywhere.
  expect((await reader(other).sessions.start.mutate({ id: 'extra' })).node).toMatch(/^node-[123]$/);
  await eventually(
    'extra running again',
    async () => (await cluster.owners(['extra'])).extra !== null,
    20_000,
    100,
  );
  const third = all.find((n) => n !== other && n !== running)!;
  await reader(third).sessions.delete.mutate({ id: 'extra', purge: true });
  expect((await cluster.owners(['extra'])).extra).toBeNull();
  await eventually(
    'extra gone from every node',
    async () => (await described('extra', all)).every((v) => v === undefined),
    10_000,
    100,
  );
});

it('three nodes: spread, commands through non-owners, SIGKILL taken over in 15 s with exact counts and resumed clients, SIGTERM handed over', {
  timeout: 180_000,
}, async () => {
  const all = ALL;
  // Spread: 6 sessions over 3 nodes, two each (a node that started late is handed its share).
  const held = await eventually(
    'two sessions a node',
    async () => {
      const owners = await cluster.allRunning(all, 30_000);
      const shares = all.map((n) => Object.values(owners).filter((o) => o === n).length);
      return shares.every((share) => share === 2) && owners;
    },
    30_000,
    200,
  );

  // A node that does not run a session shows it running on its node, in /metrics too.
  const [sessionId, owner] = Object.entries(held)[0]!;
  const elsewhere = all.find((n) => n !== owner)!;
  const metrics = await (await cluster.fetch(elsewhere, '/metrics')).text();
  expect(metrics).toContain(`pollmasters_session_node{session="${sessionId}",node="${owner}"} 1`);
  expect(metrics).toContain(`pollmasters_worker_state{session="${sessionId}",state="running"} 1`);

  // node-1 is the one to die; a client of it follows its sessions' polls.
  const victim = 'node-1';
  const doomed = cluster.sessions.filter((id) => held[id] === victim);
  const survivors = all.filter((n) => n !== victim);
  const watched = doomed[0]!;
  const onVictim = cluster.connect(victim);
  const received: Received[] = [];
  const sub = onVictim.polls.updates.subscribe(
    { sessionId: watched, snapshot: false },
    { onData: (e) => received.push(e) },
  );
  await eventually('the subscription synced', () => received.at(0)?.data.type === 'synced');

  // A command to every session through a node that does not own it.
  for (const sessionId of cluster.sessions) {
    const through = all.find((n) => n !== held[sessionId])!;
    const pollId = await sendPoll(reader(through), sessionId, `Through ${through}?`);
    expect((await reader(held[sessionId]!).polls.get.query({ sessionId, id: pollId })).id).toBe(
      pollId,
    );
  }

  // Polls keep coming to the doomed sessions (through node-2) while node-1 dies.
  const sender = reader('node-2');
  let sending = true;
  const sends = (async () => {
    for (let i = 0; sending; i++) {
      for (const sessionId of doomed) {
        await sendPoll(sender, sessionId, `Round ${i}?`).catch(() => {});
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  await eventually(
    'votes reaching the victim’s subscriber',
    () => received.filter((e) => e.data.type === 'votes').length >= 5,
    20_000,
  );
  const killedAt = Date.now();
  cluster.nodes.get(victim)!.proc.kill('SIGKILL');
  await cluster.nodes.get(victim)!.exited;
  sub.unsubscribe();
  await onVictim.close();

  // Taken over: every session runs on a survivor, ready, as both survivors see it.
  const after = await cluster.allRunning(survivors, 20_000);
  const takeoverMs = Date.now() - killedAt;
  console.log(`takeover of ${doomed.join(', ')} after SIGKILL: ${takeoverMs} ms`);
  expect(takeoverMs).toBeLessThan(15_000);
  for (const id of cluster.sessions) expect(survivors).toContain(after[id]);
  sending = false;
  await sends;

  // The client resumes on node-3 with its last event id.
  const lastId = received.at(-1)!.id;
  const rest: Received[] = [];
  const resumed = cluster
    .connect('node-3')
    .polls.updates.subscribe(
      { sessionId: watched, lastEventId: lastId },
      { onData: (e) => rest.push(e) },
    );
  const votes = (list: Received[]) => list.filter((e) => e.data.type === 'votes').length;
  // Votes keep coming after the resume: a poll sent now is voted on in the new owner's world,
  // and the resumed client gets those votes live from node-3. Without it, on a loaded machine
  // every vote of the watched session could already have reached the client before the kill.
  await sendPoll(reader(after[watched]!), watched, 'After the takeover?');
  await eventually('votes after resuming on node-3', () => votes(rest) > 0, 20_000);
  const counted = await cluster.countedAsLedgers(survivors);
  // Every poll of the watched session's ledger, not only those the client heard of.
  const watchedPolls = Object.keys((await cluster.ledgerOf(watched)).polls);
  // Nothing lost, nothing twice: per poll, each change once as the next version, and the
  // replayed changes end at the counted state.
  let replay: ReturnType<typeof replayInOrder> = new Map();
  await eventually(
    'the resumed client at the counted state',
    () => {
      replay = replayInOrder([...received, ...rest]);
      return (
        watchedPolls.length > 0 &&
        watchedPolls.every((pollId) => {
          const got = replay.get(pollId);
          const poll = counted.get(pollId);
          return got && poll && got.version === poll.version && sameVoters(got.voters, poll);
        })
      );
    },
    15_000,
    100,
  );
  resumed.unsubscribe();
  console.log(
    `${counted.size} polls counted as their ledgers; the client got ${votes(received)} vote events on ${victim}, ${votes(rest)} more after resuming on node-3 (${replay.size} polls)`,
  );
  expect(votes(rest)).toBeGreaterThan(0);
  // It resumed (the same ids on node-3), not resynced.
  // (A `pollState` may come: the new owner's resync of what it loaded, in the stream for every
  // node; the replay above holds it to a newer version, and the changes to the next one each.)
  expect(rest.some((e) => e.data.type === 'synced')).toBe(false);
  expect(rest[0]?.id.split('-')[0]).toBe(lastId.split('-')[0]);

  // SIGTERM: node-2 hands over at once (node-3 runs everything long before any lease could
  // expire) and exits 0.
  const termAt = Date.now();
  cluster.nodes.get('node-2')!.proc.kill('SIGTERM');
  const exit = await cluster.nodes.get('node-2')!.exited;
  expect(exit).toEqual({ code: 0, signal: null });
  const handed = await cluster.allRunning(['node-3'], 10_000);
  const handoverMs = Date.now() - termAt;
  console.log(`handover by SIGTERM, exit included: ${handoverMs} ms`);
  expect(handoverMs).toBeLessThan(5_000);
  for (const id of cluster.sessions) expect(handed[id]).toBe('node-3');
  await cluster.countedAsLedgers(['node-3']);
});

it('refuses a Redis URL without a database URL, and a Redis it cannot reach: one line, without the password', async () => {
  const refused = (env: Record<string, string>) =>
    spawnServer(['--data-dir', cluster.dataDir], { LOG_LEVEL: 'silent', ...env }).then(
      () => new Error('the server started'),
      (err: Error) => err,
    );
  const alone = await refused({ POLLMASTERS_REDIS_URL: testRedisUrl });
  expect(alone.message).toMatch(/the server exited \(2\)/);
  expect(alone.message).toContain('needs POLLMASTERS_DATABASE_URL');
  // Port 1 on loopback: nothing listens there.
  const away = await refused({
    POLLMASTERS_DATABASE_URL: cluster.db.url,
    POLLMASTERS_REDIS_URL: 'redis://pm:s3cret-pw@127.0.0.1:1',
    POLLMASTERS_REDIS_PREFIX: cluster.prefix,
  });
  expect(away.message).toMatch(/the server exited \(1\)/);
  expect(away.message).toContain(
    'could not start: Redis at redis://pm:***@127.0.0.1:1 cannot be reached',
  );
  expect(away.message).not.toContain('s3cret-pw');
});
