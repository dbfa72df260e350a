import { pino } from 'pino';
import { joinCluster } from '../src/cluster/joinCluster.js';
import { connectRedis } from '../src/cluster/redisConnection.js';

// One cluster node as a process of its own, for the tests that kill one (cluster-takeover.test.ts):
// it runs the sessions of CLUSTER_SESSIONS that it wins and prints one JSON line per start and
// stop on stdout. SIGTERM hands them over, as the server will.
// What the cluster promises is checked in Redis, one order for all processes (their clocks
// cannot order a stop and a start a fraction of a ms apart): a start claims
// `<prefix>test:running:<id>` and raises `<prefix>test:token:<id>`, and reports a clash if
// another node still runs the session or the token is not above every earlier one; a stop
// deletes its own claim.
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const nodeId = env('CLUSTER_NODE_ID');
const sessions = env('CLUSTER_SESSIONS').split(',');
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const logger = pino({ level: 'warn' }, pino.destination(2));
const url = env('CLUSTER_REDIS_URL');
const prefix = env('CLUSTER_PREFIX');

const check = await connectRedis({ url, prefix, name: `check-${nodeId}`, logger });
const claim = `local other = redis.call('GET', KEYS[1])
if other then return 'still running on ' .. other end
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[2]) <= last then return 'token ' .. ARGV[2] .. ' after ' .. last end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
return 'ok'`;
const running = (sessionId: string) => check.key('test', 'running', sessionId);
const member = await joinCluster({
  url,
  prefix,
  nodeId,
  logger,
  sessions: () => sessions,
  startLocal: async (sessionId, token) => {
    const keys = [running(sessionId), check.key('test', 'token', sessionId)];
    const verdict = await check.redis.eval(claim, 2, ...keys, nodeId, token);
    if (verdict !== 'ok') print({ event: 'clash', nodeId, sessionId, verdict });
    print({ event: 'start', nodeId, sessionId, token });
  },
  stopLocal: async (sessionId, reason) => {
    print({ event: 'stop', nodeId, sessionId, reason });
    await check.redis.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end",
      1,
      running(sessionId),
      nodeId,
    );
  },
});
print({ event: 'joined', nodeId });
process.on('SIGTERM', () => {
  void member
    .close()
    .then(() => check.close())
    .then(() => {
      print({ event: 'left', nodeId });
      process.exit(0);
    });
});
