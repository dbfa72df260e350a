import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { joinCluster } from '../src/cluster/joinCluster.js';

// One cluster node as a process of its own, for the tests that kill one (cluster-takeover.test.ts):
// it runs the sessions of CLUSTER_SESSIONS that it wins and prints one JSON line per start and
// stop on stdout. SIGTERM hands them over, as the server will.
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const nodeId = env('CLUSTER_NODE_ID');
const sessions = env('CLUSTER_SESSIONS').split(',');
// Sub-millisecond wall-clock times, so the test can order the lines of several processes.
const print = (line: object) =>
  process.stdout.write(
    `${JSON.stringify({ ...line, at: performance.timeOrigin + performance.now() })}\n`,
  );
const logger = pino({ level: 'warn' }, pino.destination(2));

const member = await joinCluster({
  url: env('CLUSTER_REDIS_URL'),
  prefix: env('CLUSTER_PREFIX'),
  nodeId,
  logger,
  sessions: () => sessions,
  startLocal: async (sessionId, token) => {
    print({ event: 'start', nodeId, sessionId, token });
  },
  stopLocal: async (sessionId, reason) => {
    print({ event: 'stop', nodeId, sessionId, reason });
  },
});
print({ event: 'joined', nodeId });
process.on('SIGTERM', () => {
  void member.close().then(() => {
    print({ event: 'left', nodeId });
    process.exit(0);
  });
});
