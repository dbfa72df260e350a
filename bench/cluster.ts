import { availableParallelism, loadavg } from 'node:os';
import { Config } from '@pollmasters/api';
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
 * and three nodes on PostgreSQL + Redis, on this machine, with the same load: BENCH_CLUSTER_
 * SESSIONS sandbox sessions (default 6: `default`, `bench-2` ...), BENCH_CLUSTER_POLLS polls
 * each (default 20) x 1,000 voters, injected at once. PostgreSQL is the machine's (the tests'
 * server, POLLMASTERS_TEST_POSTGRES_URL), a fresh database per configuration, dropped after;
 * Redis likewise (POLLMASTERS_TEST_REDIS_URL), a fresh key prefix, cleared after. A count
 * that differs anywhere fails the run. See docs/performance.md, "Cluster (issue 22)".
 */

const SESSIONS = Number(process.env.BENCH_CLUSTER_SESSIONS ?? 6);
const POLLS = Number(process.env.BENCH_CLUSTER_POLLS ?? 20);
const NODES = Number(process.env.BENCH_CLUSTER_NODES ?? 3);
const log = (message: string) => process.stderr.write(`[bench cluster] ${message}\n`);

/** The rows of one configuration's figures. */
const rowsOf = (label: string, r: RunFigures): [string, string, string][] => {
  const all = r.nodes.flatMap((n) => n.latency);
  const nodesCores = r.nodes.reduce((a, n) => a + n.cores, 0);
  const cpu = [nodesCores, r.benchCores, r.postgresCores, r.redisCores].map((c) =>
    c === null ? '-' : `${fmt(c * 100)} %`,
  );
  const rows: [string, string, string][] = [
    [label, `${fmt(r.votes / r.seconds)} votes/s`, ''],
    [
      '  all votes seen on every node / injected, after the first injection',
      `${fmt(r.seconds, 2)} s / ${fmt(r.injectSeconds, 2)} s`,
      '',
    ],
    [
      '  subscriber latency under load, p50 / p99 (all nodes)',
      `${fmt(percentile(all, 50))} / ${fmt(percentile(all, 99))} ms`,
      '',
    ],
    [
      '  CPU (100 % = one core): nodes, bench, PostgreSQL, Redis; machine',
      `${cpu.join(', ')}; ${fmt(r.machineCores * 100)} % of ${availableParallelism() * 100} %`,
      '',
    ],
  ];
  for (const n of r.nodes) {
    rows.push([
      `  ${n.nodeId}: sessions run, CPU, peak RSS, complete at, p99`,
      `${n.sessions.length}, ${fmt(n.cores * 100)} %, ${fmt(mb(n.peakRssBytes))} MB, ` +
        `${fmt(n.completeMs / 1000, 2)} s, ${fmt(percentile(n.latency, 99))} ms`,
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
  };
  const votes = SESSIONS * POLLS * VOTERS;
  rows.push([
    `load: ${SESSIONS} sessions x ${POLLS} polls x ${fmt(VOTERS)} voters, at once`,
    `${fmt(votes)} votes`,
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
    // Config keeps only the fields it knows: without the cluster's, nodes would run alone.
    if (!('redisUrl' in Config.parse({ redisUrl: testRedisUrl }))) {
      throw new Error('this build has no cluster configuration (Config.redisUrl)');
    }
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
