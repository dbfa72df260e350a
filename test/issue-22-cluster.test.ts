import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPollMastersClient, type PollMastersClient } from '@pollmasters/client';
import type { HealthReport, Poll } from '@pollmasters/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ChildServer, spawnServer } from './helpers/childServer.js';
import type { Received } from './helpers/pollUpdates.js';
import { normalizeExpected, votersByName } from './helpers/sandbox.js';
import {
  type FreshDatabase,
  freshDatabase,
  freshRedisPrefix,
  testRedisUrl,
} from './helpers/services.js';
import { eventually } from './helpers/wait.js';

// Issue #22: three server processes on one PostgreSQL and one Redis are one cluster. Six sandbox
// sessions spread over them and vote; one node is SIGKILLed while its sessions vote, the others
// take them over within 15 s, every count equals its sandbox ledger, a tRPC client of the dead
// node resumes on another without a lost or doubled update, commands given to a node that does
// not own the session work, and a SIGTERMed node hands over at once and exits 0.

const SESSIONS = ['default', 's2', 's3', 's4', 's5', 's6'];
const space = freshRedisPrefix('issue_22_cluster');
const dataDir = mkdtempSync(join(tmpdir(), 'pollmasters-cluster-'));
let db: FreshDatabase;
let redis: Redis;
const nodes = new Map<string, ChildServer>();
const clients: PollMastersClient[] = [];

const start = async (nodeId: string) => {
  const node = await spawnServer(
    ['--sandbox', '--sessions', String(SESSIONS.length), '--data-dir', dataDir, '--workers', '1'],
    {
      POLLMASTERS_DATABASE_URL: db.url,
      POLLMASTERS_REDIS_URL: testRedisUrl,
      POLLMASTERS_REDIS_PREFIX: space.prefix,
      POLLMASTERS_NODE_ID: nodeId,
      LOG_LEVEL: 'info',
    },
    { timeoutMs: 30_000 },
  );
  nodes.set(nodeId, node);
  return node;
};
const url = (nodeId: string) => nodes.get(nodeId)!.url;
const connect = (nodeId: string) => {
  const client = createPollMastersClient({ url: url(nodeId) });
  clients.push(client);
  return client;
};
/** One client per node, for reads. */
const readers = new Map<string, PollMastersClient>();
const reader = (nodeId: string) => {
  let client = readers.get(nodeId);
  if (!client) {
    client = connect(nodeId);
    readers.set(nodeId, client);
  }
  return client;
};
const health = async (nodeId: string): Promise<HealthReport> =>
  (await (await fetch(`${url(nodeId)}/healthz`)).json()) as HealthReport;
/** Who runs each session, as Redis' leases say. */
const owners = async (): Promise<Record<string, string | null>> => {
  const held = await redis.mget(SESSIONS.map((id) => `${space.prefix}lease:${id}`));
  return Object.fromEntries(SESSIONS.map((id, i) => [id, held[i] ?? null]));
};
/** Every session ready on `nodeIds`' view, each run by one of them; the owners. */
const allRunning = (nodeIds: string[], timeoutMs: number) =>
  eventually(
    `every session running on ${nodeIds.join(', ')}`,
    async () => {
      const held = await owners();
      for (const nodeId of nodeIds) {
        const report = await health(nodeId);
        if (report.status !== 'ok' || report.sessions.length !== SESSIONS.length) return false;
        for (const s of report.sessions) {
          const owner = held[s.id];
          if (!owner || !nodeIds.includes(owner) || s.node !== owner) return false;
          if (s.whatsapp !== 'ready' || !s.ready || s.workerState !== 'running') return false;
        }
      }
      return held;
    },
    timeoutMs,
    100,
  );

interface Ledger {
  polls: Record<string, Record<string, string[]>>;
  pending: Record<string, number>;
}
/** The session's sandbox ledger, from the node that runs its world. */
const ledgerOf = async (sessionId: string): Promise<Ledger> => {
  const owner = (await owners())[sessionId];
  if (!owner) throw new Error(`nobody runs ${sessionId}`);
  const res = await fetch(`${url(owner)}/sandbox/ledger?session=${sessionId}`);
  if (res.status !== 200) throw new Error(`ledger of ${sessionId}: ${res.status}`);
  return (await res.json()) as Ledger;
};

/** Every poll of every session's ledger counted exactly so on each of `nodeIds`. */
const countedAsLedgers = (nodeIds: string[]) =>
  eventually(
    'every poll counted as its ledger says, on every node',
    async () => {
      const counted = new Map<string, Poll>();
      for (const sessionId of SESSIONS) {
        const ledger = await ledgerOf(sessionId);
        for (const [pollId, expected] of Object.entries(ledger.polls)) {
          if (ledger.pending[pollId] !== 0) throw new Error(`${pollId} pending`);
          for (const nodeId of nodeIds) {
            const poll = await reader(nodeId).polls.get.query({ sessionId, id: pollId });
            const got = JSON.stringify(votersByName(poll));
            const want = JSON.stringify(normalizeExpected(poll, expected));
            if (got !== want)
              throw new Error(`${nodeId} ${pollId}: counted ${got}, ledger ${want}`);
            counted.set(pollId, poll);
          }
        }
      }
      return counted;
    },
    45_000,
    250,
  );

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
  db = await freshDatabase('issue_22_cluster');
  redis = new Redis(testRedisUrl);
  // Together, as a cluster starts: the PG migrations and the session records race.
  await Promise.all(['node-1', 'node-2', 'node-3'].map(start));
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  for (const node of nodes.values()) if (node.proc.exitCode === null) node.proc.kill('SIGKILL');
  await Promise.all([...nodes.values()].map((n) => n.exited));
  redis?.disconnect();
  await space.clear();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('three nodes: spread, commands through non-owners, SIGKILL taken over in 15 s with exact counts and resumed clients, SIGTERM handed over', {
  timeout: 180_000,
}, async () => {
  const all = ['node-1', 'node-2', 'node-3'];
  const held = await allRunning(all, 30_000);
  // Spread: 6 sessions over 3 nodes, two each.
  for (const nodeId of all) expect(Object.values(held).filter((o) => o === nodeId)).toHaveLength(2);

  // node-1 is the one to die; a client of it follows its sessions' polls.
  const victim = 'node-1';
  const doomed = SESSIONS.filter((id) => held[id] === victim);
  const survivors = all.filter((n) => n !== victim);
  const watched = doomed[0]!;
  const onVictim = connect(victim);
  const received: Received[] = [];
  const sub = onVictim.polls.updates.subscribe(
    { sessionId: watched, snapshot: false },
    { onData: (e) => received.push(e) },
  );
  await eventually('the subscription synced', () => received.at(0)?.data.type === 'synced');

  // A command to every session through a node that does not own it.
  for (const sessionId of SESSIONS) {
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
  nodes.get(victim)!.proc.kill('SIGKILL');
  await nodes.get(victim)!.exited;
  sub.unsubscribe();
  await onVictim.close();

  // Taken over: every session runs on a survivor, ready, as both survivors see it.
  const after = await allRunning(survivors, 20_000);
  const takeoverMs = Date.now() - killedAt;
  console.log(`takeover of ${doomed.join(', ')} after SIGKILL: ${takeoverMs} ms`);
  expect(takeoverMs).toBeLessThan(15_000);
  for (const id of SESSIONS) expect(survivors).toContain(after[id]);
  sending = false;
  await sends;

  // The client resumes on node-3 with its last event id.
  const lastId = received.at(-1)!.id;
  const rest: Received[] = [];
  const resumed = connect('node-3').polls.updates.subscribe(
    { sessionId: watched, lastEventId: lastId },
    { onData: (e) => rest.push(e) },
  );
  const counted = await countedAsLedgers(survivors);
  // Nothing lost, nothing twice: per poll, each change once in version order, and the
  // replayed changes end at the counted state.
  const replay = new Map<string, { version: number; voters: Map<string, readonly string[]> }>();
  await eventually(
    'the resumed client at the counted state',
    () => {
      replay.clear();
      for (const { data } of [...received, ...rest]) {
        if (data.type === 'pollSent' || data.type === 'pollState') {
          const known = replay.get(data.poll.id);
          if (known && data.poll.version <= known.version && data.type === 'pollState') {
            throw new Error(`poll ${data.poll.id}: state v${data.poll.version} again`);
          }
          replay.set(data.poll.id, {
            version: data.poll.version,
            voters: new Map(data.poll.voters.map((v) => [v.voter, v.selected])),
          });
        } else if (data.type === 'votes') {
          for (const p of data.polls) {
            const known = replay.get(p.pollId);
            if (!known) throw new Error(`votes of ${p.pollId} before its poll`);
            for (const c of p.changes) {
              if (c.version <= known.version) {
                throw new Error(`poll ${p.pollId}: change v${c.version} after v${known.version}`);
              }
              known.version = c.version;
              if (c.selected.length === 0) known.voters.delete(c.voter);
              else known.voters.set(c.voter, c.selected);
            }
          }
        }
      }
      const polls = [...replay.keys()];
      return (
        polls.length > 0 &&
        polls.every((pollId) => {
          const poll = counted.get(pollId);
          const got = replay.get(pollId)!;
          return (
            poll !== undefined &&
            got.version === poll.version &&
            JSON.stringify(Object.fromEntries([...got.voters].sort())) ===
              JSON.stringify(
                Object.fromEntries(poll.voters.map((v) => [v.voter, v.selected]).sort()),
              )
          );
        })
      );
    },
    15_000,
    100,
  );
  resumed.unsubscribe();
  const votes = (list: Received[]) => list.filter((e) => e.data.type === 'votes').length;
  console.log(
    `${counted.size} polls counted as their ledgers; the client got ${votes(received)} vote events on ${victim}, ${votes(rest)} more after resuming on node-3 (${replay.size} polls)`,
  );
  expect(votes(rest)).toBeGreaterThan(0);
  // It resumed (the same ids on node-3), not resynced.
  expect(rest.some((e) => e.data.type === 'synced')).toBe(false);
  expect(rest[0]?.id.split('-')[0]).toBe(lastId.split('-')[0]);

  // SIGTERM: node-2 hands over at once (node-3 runs everything long before any lease could
  // expire) and exits 0.
  const termAt = Date.now();
  nodes.get('node-2')!.proc.kill('SIGTERM');
  const exit = await nodes.get('node-2')!.exited;
  expect(exit).toEqual({ code: 0, signal: null });
  const handed = await allRunning(['node-3'], 10_000);
  const handoverMs = Date.now() - termAt;
  console.log(`handover by SIGTERM, exit included: ${handoverMs} ms`);
  expect(handoverMs).toBeLessThan(5_000);
  for (const id of SESSIONS) expect(handed[id]).toBe('node-3');
  await countedAsLedgers(['node-3']);
});
