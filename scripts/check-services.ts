/**
 * A step of `pnpm test`: the store and cluster tests need the machine's PostgreSQL and Redis
 * (or the servers POLLMASTERS_TEST_POSTGRES_URL and POLLMASTERS_TEST_REDIS_URL name). When one
 * cannot be reached, the run stops here with one line that says which and how to start it,
 * instead of skipping those tests or failing each of them on a timeout.
 */
import { Redis } from 'ioredis';
import pg from 'pg';

import {
  testPostgresUrl as postgresUrl,
  testRedisUrl as redisUrl,
} from '../test/helpers/services.js';

const TIMEOUT_MS = 5_000;

const reason = (error: unknown): string =>
  error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error);

const checkPostgres = async (): Promise<string | null> => {
  const client = new pg.Client({
    connectionString: postgresUrl,
    connectionTimeoutMillis: TIMEOUT_MS,
  });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return `pnpm test: PostgreSQL is not reachable at ${postgresUrl} (${reason(error)}); start it with \`pg_ctlcluster --skip-systemctl-redirect 15 main start\`, or set POLLMASTERS_TEST_POSTGRES_URL`;
  } finally {
    await client.end().catch(() => {});
  }
};

const checkRedis = async (): Promise<string | null> => {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // ioredis rejects with "Connection is closed"; the socket's own error says why.
  let cause: unknown = null;
  redis.on('error', (error) => {
    cause ??= error;
  });
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (error) {
    return `pnpm test: Redis is not reachable at ${redisUrl} (${reason(cause ?? error)}); start it with \`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no\`, or set POLLMASTERS_TEST_REDIS_URL`;
  } finally {
    redis.disconnect();
  }
};

const failures = (await Promise.all([checkPostgres(), checkRedis()])).filter(
  (line): line is string => line !== null,
);
for (const line of failures) process.stderr.write(`${line}\n`);
process.exit(failures.length > 0 ? 1 : 0);
