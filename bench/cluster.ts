import { availableParallelism, loadavg } from 'node:os';
import {
  freshDatabase,
  freshRedisPrefix,
  testPostgresUrl,
  testRedisUrl,
} from '../test/helpers/services.js';
import { type Load, type RunFigures, runConfiguration } from './clusterRun.js';
import { VOTERS } from './protocol.js';
import { prepareServer } from './serverProcess.js';
import { fmt, mb, percentile, printTable } from './table.js';

/*
 * `pnpm bench -- cluster` (issue 22): votes/s of one node on SQLite, one node on PostgreSQL,
 * and BENCH_CLUSTER_NODES (3) nodes on PostgreSQL + Redis, on this machine, with the same
 * load: BENCH_CLUSTER_SESSIONS sandbox sessions (6: `default`, `bench-2` ...) with
 * BENCH_CLUSTER_POLLS polls each (20) x 1,000 voters, injected at once, after a latency phase
 * (one poll a session, BENCH_CLUSTER_RATE votes/s in all, 2,000). PostgreSQL is the machine's
 * (the tests' server, POLLMASTERS_TEST_POSTGRES_URL), a fresh database per configuration,
 * dropped after; Redis likewise (POLLMASTERS_TEST_REDIS_URL), a fresh key prefix, cleared
 * after. A count that differs anywhere fails the run. See docs/performance.md, "Cluster".
 */

const SESSIONS = Number(process.env.BENCH_CLUSTER_SESSIONS ?? 6);
const POLLS = Number(process.env.BENCH_CLUSTER_POLLS ?? 20);
const NODES = Number(process.env.BENCH_CLUSTER_NODES ?? 3);
const log = (message: string) => process.stderr.write(`[bench cluster] ${message}\n`);

const LATENCY_RATE = Number(process.env.BENCH_CLUSTER_RATE ?? 2_000);
const pct = (share: number | null) => (share === null ? '-' : `${fmt(share * 100)} %`);
const p50p99 = (values: number[]) =>
  `${fmt(percentile(values, 50))} / ${fmt(percentile(values, 99))} ms`;

/** The rows of one configuration's figures. */
const rowsOf = (label: string, r: RunFigures): [string, string, string][] => {
  const nodesCores = r.nodes.reduce((a, n) => a + n.cores, 0);
  const { bench, postgres, redis, machine } = r.cpu;
  const rows: [string, string, string][] = [
    [label, `${fmt(r.votes / r.seconds)} votes/s`, ''],
    [
      '  every vote seen on every node / injected, after the first injection',
      `${fmt(r.seconds, 2)} s / ${fmt(r.injectSeconds, 2)} s`,
      '',
    ],
    [
      `  subscriber latency p50 / p99 at ${fmt(LATENCY_RATE)} votes/s (all nodes)`,
      p50p99(r.nodes.flatMap((n) => n.latency)),
      '',
    ],
    [
      "    of which injection -> in the session's stream (cluster)",
      r.toStream ? p50p99(r.toStream) : '-',
      '',
    ],
    ['  under the load (all nodes)', p50p99(r.nodes.flatMap((n) => n.loadLatency)), ''],
    [
      '  PostgreSQL commits, at the rate / under the load (votes a commit)',
      r.commits
        ? `${fmt(r.commits.latency)} (${fmt(r.latencyVotes / r.commits.latency, 1)}) / ` +
          `${fmt(r.commits.load)} (${fmt(r.votes / r.commits.load, 1)})`
        : '-',
      '',
    ],
    [
      '  CPU under the load (100 % = a core): nodes, bench, PostgreSQL, Redis',
      [nodesCores, bench, postgres, redis].map(pct).join(', '),
      '',
    ],
    [
      '  CPU per vote of the load, the nodes together',
      `${fmt(
        r.nodes.reduce((a, n) => a + n.usPerVote, 0),
        1,
      )} us`,
      '',
    ],
    [
      '  the machine busy (every tenant)',
      `${pct(machine)} of ${availableParallelism() * 100} %`,
      '',
    ],
  ];
  for (const n of r.nodes) {
    rows.push([
      `  ${n.nodeId}: sessions run, CPU, peak RSS, every vote at, p99 at rate / load`,
      `${n.sessions.length}, ${pct(n.cores)}, ${fmt(mb(n.peakRssBytes))} MB, ` +
        `${fmt(n.completeMs / 1000, 2)} s, ${fmt(percentile(n.latency, 99))} / ${fmt(percentile(n.loadLatency, 99))} ms`,
      '',
    ]);
  }
  return rows;
};

export async function clusterBench(): Promise<string[]> {
  const failures: string[] = [];
  const rows: [string, string, string][] = [];
  const started = performance.now();
  const load: Load = {
    sessionIds: Array.from({ length: SESSIONS }, (_, i) =>
      i === 0 ? 'default' : `bench-${i + 1}`,
    ),
    pollsPerSession: POLLS,
    latencyRate: LATENCY_RATE,
  };
  const votes = SESSIONS * POLLS * VOTERS;
  rows.push([
    `load: ${SESSIONS} sessions x ${POLLS} polls x ${fmt(VOTERS)} voters, at once`,
    `${fmt(votes)} votes (and ${fmt(SESSIONS * VOTERS)} at ${fmt(LATENCY_RATE)}/s before)`,
    '',
  ]);
  rows.push(['machine load average (1 min) at the start', fmt(loadavg()[0]!, 2), '']);
  await prepareServer();
  const run = async (label: string, make: () => Promise<RunFigures>) => {
    try {
      rows.push(...rowsOf(label, await make()));
    } catch (err) {
      failures.push(`${label}: ${(err as Error).message}`);
      rows.push([label, 'FAILED', '']);
    }
  };

  await run('1 node, SQLite', () => runConfiguration('SQLite', [{}], load, {}, failures));
  await run('1 node, PostgreSQL', async () => {
    const db = await freshDatabase('bench_cluster_pg');
    try {
      const services = { postgres: { adminUrl: testPostgresUrl, database: db.name } };
      return await runConfiguration(
        'PostgreSQL',
        [{ databaseUrl: db.url }],
        load,
        services,
        failures,
      );
    } finally {
      await db.drop();
    }
  });
  await run(`${NODES} nodes, PostgreSQL + Redis`, async () => {
    const db = await freshDatabase('bench_cluster');
    const space = freshRedisPrefix('bench_cluster');
    const nodes = Array.from({ length: NODES }, (_, i) => ({
      databaseUrl: db.url,
      cluster: { redisUrl: testRedisUrl, nodeId: `node-${i + 1}`, prefix: space.prefix },
    }));
    try {
      const services = {
        postgres: { adminUrl: testPostgresUrl, database: db.name },
        redisUrl: testRedisUrl,
      };
      return await runConfiguration('cluster', nodes, load, services, failures);
    } finally {
      await db.drop();
      await space.clear();
    }
  });
  rows.push(['machine load average (1 min) at the end', fmt(loadavg()[0]!, 2), '']);
  rows.push([
    'counts exact on every node (subscribers, polls.list)',
    failures.length ? 'NO' : 'yes',
    '',
  ]);
  rows.push(['bench run time', `${fmt((performance.now() - started) / 1000, 1)} s`, '']);
  log('done');
  printTable(rows, failures);
  return failures;
}
