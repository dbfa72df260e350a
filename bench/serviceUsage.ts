import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';

/*
 * CPU time outside the nodes that the cluster bench's figures depend on: the machine's (other
 * tenants share its cores), PostgreSQL's backends serving the bench's database (and its
 * commits), and the Redis server's. Read before and after a load; the differences go in the table.
 */

const TICK_US = 1_000_000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** The machine's CPU time so far, busy and in all, µs (/proc/stat's first line). */
export const machineCpuUs = (): { busy: number; total: number } => {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1);
  const ticks = fields.map(Number);
  // user nice system idle iowait irq softirq steal ...: idle and iowait are not busy.
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = ticks[3]! + ticks[4]!;
  return { busy: (total - idle) * TICK_US, total: total * TICK_US };
};

/** A process's CPU time so far (utime + stime of /proc/<pid>/stat), µs; 0 once it is gone. */
const processCpuUs = (pid: number): number => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name (which may hold spaces), from the state on.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * TICK_US;
  } catch {
    return 0;
  }
};

/**
 * What `database` has had of PostgreSQL so far: its backends' CPU time by pid (µs), and its
 * committed transactions (the statistics lag by up to a second: read them after a pause).
 */
export const postgresUsage = async (adminUrl: string, database: string) => {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1',
      [database],
    );
    const commits = await client.query<{ n: string }>(
      'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1',
      [database],
    );
    return {
      cpuUs: new Map(rows.map((r) => [r.pid, processCpuUs(r.pid)])),
      commits: Number(commits.rows[0]?.n ?? 0),
    };
  } finally {
    await client.end();
  }
};

/** The CPU spent by backends between two reads (a backend new in the second counts whole). */
export const postgresCpuBetween = (
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
): number => [...after].reduce((sum, [pid, us]) => sum + us - (before.get(pid) ?? 0), 0);

/** The Redis server's CPU time so far (INFO cpu, its main and other threads), µs. */
export const redisCpuUs = async (url: string): Promise<number> => {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const info = await redis.info('cpu');
    const value = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
    return (value('used_cpu_sys') + value('used_cpu_user')) * 1_000_000;
  } finally {
    redis.disconnect();
  }
};
