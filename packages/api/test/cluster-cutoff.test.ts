import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../../test/helpers/wait.js';
import { joinCluster } from '../src/cluster/joinCluster.js';
import { freePort, Ledger, silent } from './clusterHarness.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A Redis server of this test's own, from the machine's binary, that it may freeze or kill. */
const ownRedis = async (): Promise<{ url: string; server: ChildProcess }> => {
  const port = await freePort();
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  cleanups.push(async () => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    server.kill('SIGKILL');
    await once(server, 'exit');
  });
  const url = `redis://127.0.0.1:${port}`;
  await eventually('own redis-server answering', async () => {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    probe.on('error', () => {}); // refused until the server listens: `connect()` says so too
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } finally {
      probe.disconnect();
    }
  });
  return { url, server };
};

/**
 * When each lease key's expiry was last set, in the server's own clock (ms), from MONITOR,
 * which lists the commands that scripts run too: the lease really ends `ttl` after this.
 */
const watchExtensions = async (url: string, leasePrefix: string) => {
  const last = new Map<string, number>();
  const client = new Redis(url);
  const monitor = await client.monitor();
  // The server is frozen or killed on purpose: its connection errors are expected.
  for (const c of [client, monitor]) c.on('error', () => {});
  monitor.on('monitor', (time: string, args: string[]) => {
    const [command, key] = [String(args[0]).toUpperCase(), String(args[1])];
    if ((command === 'PEXPIRE' || command === 'SET') && key.startsWith(leasePrefix)) {
      last.set(key.slice(leasePrefix.length), Number(time) * 1_000);
    }
  });
  cleanups.push(() => {
    monitor.disconnect();
    client.disconnect();
  });
  return last;
};

describe('a node cut off from Redis', () => {
  for (const cut of ['SIGSTOP', 'SIGKILL'] as const) {
    it(`gives its leases up and stops its sessions before they can expire (${cut} of Redis)`, async () => {
      const { url, server } = await ownRedis();
      const prefix = 'cutoff:';
      const extended = await watchExtensions(url, `${prefix}lease:`);
      const ledger = new Ledger();
      const stoppedAt = new Map<string, number>();
      const ttlMs = 5_000;
      const { node, close } = await joinCluster({
        url,
        prefix,
        nodeId: 'alone',
        logger: silent,
        sessions: () => ['s0', 's1', 's2', 's3'],
        timings: { ttlMs, heartbeatTtlMs: 2_500, scanEveryMs: 200 },
        startLocal: async (id, token) => ledger.start('alone', id, token),
        stopLocal: async (id, reason) => {
          if (reason === 'lost') stoppedAt.set(id, Date.now());
          ledger.stop('alone', id);
        },
      });
      cleanups.push(close);
      const lost: string[] = [];
      node.on('lost', (id, _token, reason) => lost.push(`${id} ${reason}`));
      await eventually('all 4 sessions running', () => ledger.running.size === 4, 10_000);
      // Let a few renewals pass, so the expiry checked below is a renewal's, not the first.
      await new Promise((r) => setTimeout(r, 2_500));

      server.kill(cut);
      const cutAt = Date.now();
      await eventually('every lease given up', () => stoppedAt.size === 4, 2 * ttlMs);
      expect(lost.sort()).toEqual(['s0', 's1', 's2', 's3'].map((id) => `${id} unreachable`));
      expect(ledger.running.size).toBe(0);
      const leads: number[] = [];
      for (const id of stoppedAt.keys()) {
        const expiresAt = extended.get(id)! + ttlMs;
        expect(stoppedAt.get(id)!).toBeGreaterThan(cutAt);
        // Stopped before the lease can have expired (before anyone else could acquire it).
        expect(stoppedAt.get(id)!).toBeLessThan(expiresAt);
        leads.push(Math.round(expiresAt - stoppedAt.get(id)!));
      }
      console.log(`${cut}: sessions stopped ${leads.join(', ')} ms before their leases expired`);

      if (cut === 'SIGSTOP') {
        // Redis thaws (with this node's late renewals in its socket): the node takes its
        // sessions back, each with a newer token.
        const before = new Map(ledger.lastToken);
        server.kill('SIGCONT');
        await eventually('all 4 running again', () => ledger.running.size === 4, 3 * ttlMs);
        for (const [id, run] of ledger.running) expect(run.token).toBeGreaterThan(before.get(id)!);
      }
      expect(ledger.violations).toEqual([]);
    }, 40_000);
  }
});
