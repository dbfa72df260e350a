import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
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

/** Who runs what now, in the order the lines arrive (several pipes: only good for counts). */
const ledger = new Ledger();
/** A start that broke a promise (another node still ran it, or an old token), from Redis. */
const clashes: string[] = [];
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
    const event = JSON.parse(line) as { event: string; sessionId: string; token: number };
    if (event.event === 'clash') clashes.push(line);
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
  // It is dead: nothing of it runs any more (its claims in the check register go with it).
  const check = new Redis(testRedisUrl);
  for (const id of dead) {
    ledger.stop('n1', id);
    await check.del(`${space.prefix}test:running:${id}`);
  }
  check.disconnect();
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
  // Never on two nodes at once, each token above the ones before (checked in Redis).
  expect(clashes).toEqual([]);
  // After the first spread, each session moved once per node gone, no more.
  expect(ledger.starts - startsBefore).toBe(dead.length + 3);
}, 60_000);
