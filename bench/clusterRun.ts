import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareVotes } from '@pollmasters/worker/sandbox';
import type { BurstResult } from '@pollmasters/worker/sandbox/remote';
import type { FromNode, NodeSettings, ToNode } from './clusterProtocol.js';
import { compare, type Expected } from './exactness.js';
import { NodeSubscriber } from './nodeSubscriber.js';
import { OPTIONS, VOTERS } from './protocol.js';
import { ServerProcess } from './serverProcess.js';
import { machineCpuUs, postgresCpuBetween, postgresCpuUs, redisCpuUs } from './serviceCpu.js';
import { fmt } from './table.js';

/*
 * One configuration of `pnpm bench -- cluster`: its nodes started, the sessions made ready on
 * every node, polls sent through each session's owner, then every session's burst injected at
 * once (each by its owner's sandbox) while a tRPC subscriber on every node follows every
 * session; every count checked on every node against the sandbox's ledger of the bursts.
 */

type Node = ServerProcess<ToNode, FromNode>;

/** The services a configuration uses, whose CPU time over the load is measured too. */
export interface Services {
  /** The machine's PostgreSQL (a superuser URL) and the bench's database on it. */
  postgres?: { adminUrl: string; database: string };
  redisUrl?: string;
}

export interface Load {
  sessionIds: string[];
  pollsPerSession: number;
}

export interface NodeFigures {
  nodeId: string;
  sessions: string[];
  /** CPU time of the node's process over the load, as a share of one core (1 = 100 %). */
  cores: number;
  peakRssBytes: number;
  /** When its subscriber had every vote, ms after the first injection. */
  completeMs: number;
  latency: number[];
}

export interface RunFigures {
  votes: number;
  /** First injection to the last vote seen by the last node's subscriber. */
  seconds: number;
  injectSeconds: number;
  /** The bench process's CPU over the load (its subscribers), share of one core. */
  benchCores: number;
  /** The whole machine's busy CPU over the load (every tenant), share of one core. */
  machineCores: number;
  /** PostgreSQL's backends of the bench's database, and the Redis server; null: not used. */
  postgresCores: number | null;
  redisCores: number | null;
  nodes: NodeFigures[];
}

const log = (message: string) => process.stderr.write(`[bench cluster] ${message}\n`);

export async function runConfiguration(
  label: string,
  settings: NodeSettings[],
  load: Load,
  services: Services,
  failures: string[],
): Promise<RunFigures> {
  const dirs = settings.map(() => mkdtempSync(join(tmpdir(), 'pollmasters-bench-cluster-')));
  const channel = `pollmasters-bench-cluster-${process.pid}`;
  const nodes: Node[] = [];
  const subscribers: NodeSubscriber[] = [];
  const clustered = settings.length > 1;
  const nodeIds = settings.map((s, i) => s.cluster?.nodeId ?? `node-${i + 1}`);
  try {
    log(`${label}: starting ${settings.length} node(s) ...`);
    nodes.push(
      ...(await Promise.all(
        settings.map((s, i) =>
          ServerProcess.start<ToNode, FromNode>(dirs[i]!, channel, {
            script: 'clusterServer',
            args: [JSON.stringify(s)],
          }),
        ),
      )),
    );
    const { sessionIds } = load;
    // One node makes the sessions; in a cluster the leases decide who runs each.
    await nodes[0]!.request({ type: 'sessions', ids: sessionIds, start: !clustered }, 'done');
    await Promise.all(
      nodes.map((n) =>
        n.request({ type: 'awaitReady', ids: sessionIds, timeoutMs: 60_000 }, 'done', 70_000),
      ),
    );
    const owned = await Promise.all(
      nodes.map((n) => n.request({ type: 'owned', ids: sessionIds }, 'owned')),
    );
    const ownerOf = new Map<string, Node>();
    for (const sessionId of sessionIds) {
      const holders = nodes.filter((_, i) => owned[i]!.ids.includes(sessionId));
      if (holders.length !== 1)
        throw new Error(`${label}: ${sessionId} runs on ${holders.length} nodes`);
      ownerOf.set(sessionId, holders[0]!);
    }
    log(
      `${label}: sessions per node ${owned.map((o) => o.ids.length).join(', ')}; sending polls ...`,
    );

    const polls = new Map<string, string[]>();
    for (const sessionId of sessionIds) {
      const sent = await ownerOf.get(sessionId)!.request(
        {
          type: 'createPolls',
          sessionId,
          count: load.pollsPerSession,
          prefix: 'Load',
          options: OPTIONS,
        },
        'polls',
      );
      polls.set(
        sessionId,
        sent.polls.map((p) => p.id),
      );
    }
    subscribers.push(...nodes.map((n) => new NodeSubscriber(n.url)));
    await Promise.all(subscribers.map((s) => s.subscribe(sessionIds)));

    // Encrypted here, before the first injection, as the voters' phones would (bench/run.ts).
    const prepared = await Promise.all(
      sessionIds.map(async (sessionId, i) => {
        const pollIds = polls.get(sessionId)!;
        const { keys } = await ownerOf
          .get(sessionId)!
          .request({ type: 'burstKeys', sessionId, pollIds }, 'burstKeys');
        return keys.map((k) => prepareVotes(k, 100 + i, VOTERS));
      }),
    );
    const total = sessionIds.length * load.pollsPerSession * VOTERS;
    log(`${label}: ${fmt(total)} votes over ${sessionIds.length} sessions, unthrottled ...`);
    const usage = () => Promise.all(nodes.map((n) => n.request({ type: 'usage' }, 'usage')));
    const { postgres, redisUrl } = services;
    const pgCpu = () => (postgres ? postgresCpuUs(postgres.adminUrl, postgres.database) : null);
    const redisCpu = () => (redisUrl ? redisCpuUs(redisUrl) : null);
    const before = await usage();
    const [pgBefore, redisBefore] = await Promise.all([pgCpu(), redisCpu()]);
    const machineBefore = machineCpuUs();
    const started = performance.now();
    const benchCpu = process.cpuUsage();
    const bursts: BurstResult[] = await Promise.all(
      sessionIds.map((sessionId, i) =>
        ownerOf
          .get(sessionId)!
          .request({ type: 'burst', sessionId, votes: prepared[i]!, batchSize: 500 }, 'burst')
          .then((m) => m.result),
      ),
    );
    const seen = await Promise.allSettled(subscribers.map((s) => s.saw(total, 120_000)));
    const wallUs = (performance.now() - started) * 1000;
    const machineUs = machineCpuUs().busy - machineBefore.busy;
    const benchUs = process.cpuUsage(benchCpu);
    const after = await usage();
    const [pgAfter, redisAfter] = await Promise.all([pgCpu(), redisCpu()]);
    seen.forEach((r, i) => {
      if (r.status === 'rejected') failures.push(`${label}, ${nodeIds[i]}: ${r.reason.message}`);
    });

    // Every count, on every node: its subscriber's last counts and its read model's.
    const firstAt = Math.min(...bursts.map((b) => b.firstAt));
    for (const [s, sessionId] of sessionIds.entries()) {
      const expected: Expected = new Map(Object.entries(bursts[s]!.polls));
      for (const [i, sub] of subscribers.entries()) {
        const where = `${label}, ${nodeIds[i]}, session ${sessionId}`;
        const final = sub.final.get(sessionId)!;
        compare(failures, `${where}, tRPC subscriber`, expected, (id) => final.get(id));
        const listed = await sub.listed(sessionId);
        compare(failures, `${where}, polls.list`, expected, (id) => listed.get(id));
      }
    }
    const lastAt = Math.max(...subscribers.map((s) => s.lastAt));
    return {
      votes: total,
      seconds: (lastAt - firstAt) / 1000,
      injectSeconds: (Math.max(...bursts.map((b) => b.lastAt)) - firstAt) / 1000,
      benchCores: (benchUs.user + benchUs.system) / wallUs,
      machineCores: machineUs / wallUs,
      postgresCores: pgBefore && pgAfter ? postgresCpuBetween(pgBefore, pgAfter) / wallUs : null,
      redisCores:
        redisBefore !== null && redisAfter !== null ? (redisAfter - redisBefore) / wallUs : null,
      nodes: nodes.map((_, i) => ({
        nodeId: nodeIds[i]!,
        sessions: owned[i]!.ids,
        cores: (after[i]!.cpuUs - before[i]!.cpuUs) / wallUs,
        peakRssBytes: after[i]!.peakRssBytes,
        completeMs: subscribers[i]!.lastAt - firstAt,
        latency: subscribers[i]!.latency,
      })),
    };
  } finally {
    await Promise.all(subscribers.map((s) => s.close().catch(() => {})));
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}
