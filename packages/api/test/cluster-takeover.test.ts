import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { freshRedisPrefix, testRedisUrl } from '../../../test/helpers/services.js';
import { until } from '../../../test/helpers/wait.js';
import { Ledger } from './clusterHarness.js';

const space = freshRedisPrefix('cluster_takeover');
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await space.clear();
});

/** Who runs what now, in the order the lines arrive (two pipes: only good for counts). */
const ledger = new Ledger();
/** Every start and stop, to replay in the order they happened. */
const events: { event: string; nodeId: string; sessionId: string; token: number; at: number }[] =
  [];
const sessions = Array.from({ length: 6 }, (_, i) => `s${i}`);

/** A node in a process of its own, with the production timings (lease ttl 10 s, scan 1.5 s). */
const spawnNode = (nodeId: string): ChildProcess => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./clusterNodeProcess.ts', import.meta.url))],
    {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: {
        ...process.env,
        CLUSTER_REDIS_URL: testRedisUrl,
        CLUSTER_PREFIX: space.prefix,
        CLUSTER_NODE_ID: nodeId,
        CLUSTER_SESSIONS: sessions.join(','),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const event = JSON.parse(line) as (typeof events)[number];
    events.push(event);
    if (event.event === 'start') ledger.start(nodeId, event.sessionId, event.token);
    if (event.event === 'stop') ledger.stop(nodeId, event.sessionId);
  });
  return child;
};

const counts = (nodes: string[], expected: number[], what: string, timeoutMs: number) =>
  until(
    ledger,
    'change',
    () => (ledger.counts(nodes).join() === expected.join() ? true : undefined),
    what,
    timeoutMs,
  );

it("takes a SIGKILLed node's sessions over within 15 s, and a SIGTERMed node hands over at once", async () => {
  const nodes = ['n1', 'n2', 'n3'];
  const [n1, n2] = nodes.map(spawnNode);
  await counts(nodes, [2, 2, 2], '2 sessions on each of 3 nodes', 20_000);
  const tokensBefore = new Map(ledger.lastToken);
  const startsBefore = ledger.starts;

  // SIGKILL: nothing is released; the others must wait for its leases to expire.
  const dead = ledger.sessionsOn('n1');
  n1!.kill('SIGKILL');
  const killedAt = Date.now();
  await once(n1!, 'exit');
  for (const id of dead) {
    ledger.stop('n1', id);
    events.push({ event: 'stop', nodeId: 'n1', sessionId: id, token: 0, at: killedAt });
  }
  await counts(nodes, [0, 3, 3], 'the survivors running all 6', 20_000);
  const takeoverMs = Date.now() - killedAt;
  console.log(`takeover after SIGKILL: ${takeoverMs} ms (lease ttl 10000 ms, scan 1500 ms)`);
  expect(takeoverMs).toBeLessThan(15_000);
  for (const id of dead) {
    expect(ledger.running.get(id)!.token).toBeGreaterThan(tokensBefore.get(id)!);
  }

  // SIGTERM: its sessions are stopped and released, and the last node starts them at once.
  const terminatedAt = Date.now();
  n2!.kill('SIGTERM');
  const [code] = await once(n2!, 'exit');
  expect(code).toBe(0);
  await counts(nodes, [0, 0, 6], 'n3 running all 6', 5_000);
  const handoverMs = Date.now() - terminatedAt;
  console.log(`handover after SIGTERM: ${handoverMs} ms`);
  expect(handoverMs).toBeLessThan(3_000);
  // Never on two nodes at once, tokens always rising: replayed in the order things happened.
  const replay = new Ledger();
  for (const e of events.sort((a, b) => a.at - b.at)) {
    if (e.event === 'start') replay.start(e.nodeId, e.sessionId, e.token);
    if (e.event === 'stop') replay.stop(e.nodeId, e.sessionId);
  }
  expect(replay.violations).toEqual([]);
  // After the first spread, each session moved once per node gone, no more.
  expect(ledger.starts - startsBefore).toBe(dead.length + 3);
}, 60_000);
