import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * The PostgreSQL and Redis servers the tests use: the machine's own, on loopback, unless the
 * environment names others. `scripts/check-services.ts` (a step of `pnpm test`) fails the run
 * with one line when either cannot be reached: these tests never skip.
 */
export const testPostgresUrl =
  process.env.POLLMASTERS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const testRedisUrl = process.env.POLLMASTERS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A name no other test file (or earlier run) uses: `pm_<label>_<random>`, lower case. */
const uniqueName = (label: string): string =>
  `pm_${label.toLowerCase().replace(/[^a-z0-9]/g, '_')}_${randomBytes(5).toString('hex')}`;

/** The URL of another database on the same server as `base`. */
const withDatabase = (base: string, database: string): string => {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
};

export interface FreshDatabase {
  /** The new database's URL. */
  url: string;
  name: string;
  /** Drops it (closing whatever still holds a connection to it). */
  drop(): Promise<void>;
}

/** Creates an empty database for one test file on the test server. */
export const freshDatabase = async (label: string): Promise<FreshDatabase> => {
  const name = uniqueName(label);
  const admin = new pg.Client({ connectionString: testPostgresUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(testPostgresUrl, name),
    name,
    drop: async () => {
      const client = new pg.Client({ connectionString: testPostgresUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
};

export interface FreshRedisPrefix {
  /** A key prefix of its own, ending in `:`. */
  prefix: string;
  /** Deletes every key under the prefix. */
  clear(): Promise<void>;
}

/** A key prefix for one test file on the test Redis server. */
export const freshRedisPrefix = (label: string): FreshRedisPrefix => {
  const prefix = `${uniqueName(label)}:`;
  return {
    prefix,
    clear: async () => {
      const redis = new Redis(testRedisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
          cursor = next;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
};
