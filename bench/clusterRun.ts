import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BurstResult } from '@pollmasters/worker/sandbox/remote';
import {
  inject,
  type Node,
  placeSessions,
  prepare,
  sendPolls,
  startNodes,
} from './clusterNodes.js';
import type { NodeSettings } from './clusterProtocol.js';
import { compare, type Expected } from './exactness.js';
import { NodeSubscriber } from './nodeSubscriber.js';
import { VOTERS } from './protocol.js';
import { machineCpuUs, postgresCpuBetween, postgresUsage, redisCpuUs } from './serviceUsage.js';
import { injectionToStreamMs } from './streamLag.js';
import { fmt } from './table.js';

/*
 * One configuration of `pnpm bench -- cluster`: its nodes started, the sessions made ready on
 * every node, a tRPC subscriber on every node following every session. Then two phases, the
 * votes of each session injected by its owner's sandbox: latency (one poll a session, at a
 * fixed rate in all) and throughput (the load's polls, every session at once, unthrottled).
 * Every count is checked on every node against the sandbox's ledger of the bursts.
 */

/** The services a configuration uses, whose CPU time over the load is measured too. */
export interface Services {
  /** The machine's PostgreSQL (a superuser URL) and the bench's database on it. */
  postgres?: { adminUrl: string; database: string };
  redisUrl?: string;
}

export interface Load {
  sessionIds: string[];
  pollsPerSession: number;
  /** Votes per second of the latency phase, all sessions together. */
  latencyRate: number;
}

export interface NodeFigures {
  nodeId: string;
  sessions: string[];
  /** CPU time of the node's process over the load, as a share of one core (1 = 100 %). */
  cores: number;
  /** CPU time of the node's process over the load per vote of the load, µs. */
  usPerVote: number;
  peakRssBytes: number;
  /** When its subscriber had every vote of the load, ms after the first injection. */
  completeMs: number;
  /** Its subscriber's latencies (ms) at the fixed rate, and under the load. */
  latency: number[];
  loadLatency: number[];
}

/** CPU time over the load as shares of one core; null: the service is not used. */
export interface CpuFigures {
  bench: number;
  machine: number;
  postgres: number | null;
  redis: number | null;
}

export interface RunFigures {
  votes: number;
  /** Transactions committed in the bench's database in the latency phase and in the load. */
  commits: { latency: number; load: number } | null;
  latencyVotes: number;
  /** In a cluster, the latency phase's votes: injection to their append to the stream, ms. */
  toStream: number[] | null;
  /** First injection to the last vote seen by the last node's subscriber. */
  seconds: number;
  injectSeconds: number;
  cpu: CpuFigures;
  nodes: NodeFigures[];
}

const log = (message: string) => process.stderr.write(`[bench cluster] ${message}\n`);
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts measuring the CPU time of the services and the machine; `end` gives the shares. */
const cpuWindow = async ({ postgres, redisUrl }: Services) => {
  const pgCpu = async () =>
    postgres ? (await postgresUsage(postgres.adminUrl, postgres.database)).cpuUs : null;
  const redisCpu = () => (redisUrl ? redisCpuUs(redisUrl) : null);
  const [pgBefore, redisBefore] = await Promise.all([pgCpu(), redisCpu()]);
  const machineBefore = machineCpuUs().busy;
  const started = performance.now();
  const benchBefore = process.cpuUsage();
  return async (): Promise<CpuFigures & { wallUs: number }> => {
    const wallUs = (performance.now() - started) * 1000;
    const machine = (machineCpuUs().busy - machineBefore) / wallUs;
    const benchUs = process.cpuUsage(benchBefore);
    const [pgAfter, redisAfter] = await Promise.all([pgCpu(), redisCpu()]);
    return {
      wallUs,
      machine,
      bench: (benchUs.user + benchUs.system) / wallUs,
      postgres: pgBefore && pgAfter ? postgresCpuBetween(pgBefore, pgAfter) / wallUs : null,
      redis:
        redisBefore !== null && redisAfter !== null ? (redisAfter - redisBefore) / wallUs : null,
    };
  };
};

export async function runConfiguration(
  label: string,
  settings: NodeSettings[],
  load: Load,
  services: Services,
  failures: string[],
): Promise<RunFigures> {
  const dirs = settings.map(() => mkdtempSync(join(tmpdir(), 'pollmasters-bench-cluster-')));
  const nodes: Node[] = [];
  const subscribers: NodeSubscriber[] = [];
  const nodeIds = settings.map((s, i) => s.cluster?.nodeId ?? `node-${i + 1}`);
  const { sessionIds } = load;
  /** Waits until every node's subscriber has the counts of `bursts`; records who did not. */
  const allSeen = async (...phases: BurstResult[][]) => {
    const expected = new Map(
      sessionIds.map((sessionId, s): [string, Expected] => [
        sessionId,
        new Map(phases.flatMap((bursts) => Object.entries(bursts[s]!.polls))),
      ]),
    );
    const seen = await Promise.allSettled(subscribers.map((s) => s.reached(expected, 120_000)));
    seen.forEach((r, i) => {
      if (r.status === 'rejected') failures.push(`${label}, ${nodeIds[i]}: ${r.reason.message}`);
    });
  };
  try {
    log(`${label}: starting ${settings.length} node(s) ...`);
    nodes.push(...(await startNodes(settings, dirs, `pollmasters-bench-cluster-${process.pid}`)));
    const { owners, runs } = await placeSessions(nodes, sessionIds);
    log(`${label}: sessions per node ${runs.map((r) => r.length).join(', ')}; sending polls ...`);
    const latencyPolls = await sendPolls(owners, 1, 'Latency');
    const loadPolls = await sendPolls(owners, load.pollsPerSession, 'Load');
    subscribers.push(...nodes.map((n) => new NodeSubscriber(n.url)));
    await Promise.all(subscribers.map((s) => s.subscribe(sessionIds)));

    // PostgreSQL's statistics lag by up to a second: read after a pause.
    const commits = async () => {
      if (!services.postgres) return 0;
      await delay(1_100);
      return (await postgresUsage(services.postgres.adminUrl, services.postgres.database)).commits;
    };
    const commitsAtStart = await commits();
    const latencyVotes = sessionIds.length * VOTERS;
    log(`${label}: latency, ${fmt(latencyVotes)} votes at ${fmt(load.latencyRate)}/s ...`);
    const perSession = load.latencyRate / sessionIds.length;
    const latencyBursts = await inject(owners, await prepare(owners, latencyPolls, 11), perSession);
    await allSeen(latencyBursts);
    const latency = subscribers.map((s) => s.latency.splice(0));
    const commitsAfterLatency = await commits();
    const { cluster } = settings[0]!;
    const toStream = cluster
      ? await injectionToStreamMs(cluster.redisUrl, cluster.prefix, sessionIds)
      : null;

    const total = sessionIds.length * load.pollsPerSession * VOTERS;
    log(`${label}: throughput, ${fmt(total)} votes, unthrottled ...`);
    const prepared = await prepare(owners, loadPolls, 100);
    const usage = () => Promise.all(nodes.map((n) => n.request({ type: 'usage' }, 'usage')));
    const before = await usage();
    const endCpu = await cpuWindow(services);
    const bursts: BurstResult[] = await inject(owners, prepared);
    await allSeen(latencyBursts, bursts);
    const cpu = await endCpu();
    const after = await usage();
    const commitsAfterLoad = await commits();

    // Every count, on every node: its subscriber's last counts and its read model's.
    for (const [s, sessionId] of sessionIds.entries()) {
      const expected: Expected = new Map([
        ...Object.entries(latencyBursts[s]!.polls),
        ...Object.entries(bursts[s]!.polls),
      ]);
      for (const [i, sub] of subscribers.entries()) {
        const where = `${label}, ${nodeIds[i]}, session ${sessionId}`;
        const final = sub.final.get(sessionId)!;
        compare(failures, `${where}, tRPC subscriber`, expected, (id) => final.get(id));
        const listed = await sub.listed(sessionId);
        compare(failures, `${where}, polls.list`, expected, (id) => listed.get(id));
      }
    }
    const firstAt = Math.min(...bursts.map((b) => b.firstAt));
    const lastAt = Math.max(...subscribers.map((s) => s.lastAt));
    return {
      votes: total,
      latencyVotes,
      toStream,
      commits: services.postgres
        ? {
            latency: commitsAfterLatency - commitsAtStart,
            load: commitsAfterLoad - commitsAfterLatency,
          }
        : null,
      seconds: (lastAt - firstAt) / 1000,
      injectSeconds: (Math.max(...bursts.map((b) => b.lastAt)) - firstAt) / 1000,
      cpu,
      nodes: nodes.map((_, i) => ({
        nodeId: nodeIds[i]!,
        sessions: runs[i]!,
        cores: (after[i]!.cpuUs - before[i]!.cpuUs) / cpu.wallUs,
        usPerVote: (after[i]!.cpuUs - before[i]!.cpuUs) / total,
        peakRssBytes: after[i]!.peakRssBytes,
        completeMs: subscribers[i]!.lastAt - firstAt,
        latency: latency[i]!,
        loadLatency: subscribers[i]!.latency,
      })),
    };
  } finally {
    await Promise.all(subscribers.map((s) => s.close().catch(() => {})));
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}
