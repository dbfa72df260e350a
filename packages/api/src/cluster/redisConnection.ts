import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

/** The key prefix when none is configured (decision 3 of docs/cluster.md). */
export const DEFAULT_KEY_PREFIX = 'pollmasters:';

/** Printable, no spaces or glob characters: a prefix ends up in SCAN patterns and channel names. */
const PREFIX_PATTERN = /^[A-Za-z0-9_.:/-]{1,100}$/;

/** The URL as logs and errors may show it: without its password. */
export const redactRedisUrl = (url: string): string => {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
};

/** @throws a clear Error for a URL that is not redis:// or rediss://, or a bad prefix. */
export const checkRedisTarget = (url: string, prefix: string): void => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('POLLMASTERS_REDIS_URL is not a URL (expected redis://host:port[/db])');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(
      `POLLMASTERS_REDIS_URL must start with redis:// or rediss://, not ${parsed.protocol}//`,
    );
  }
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new Error(
      `Redis key prefix ${JSON.stringify(prefix)} is invalid: 1 to 100 of A-Z a-z 0-9 _ . : / -`,
    );
  }
};

export interface RedisConnectOptions {
  url: string;
  /** Every key and channel of this cluster starts with it; default `pollmasters:`. */
  prefix?: string;
  /** Shown in CLIENT LIST and in logs: what this connection is for. */
  name: string;
  logger: Logger;
  /** How long the first connection may take before the start fails; default 5 s. */
  connectTimeoutMs?: number;
  /** A command with no reply after this fails (so loops never hang on a frozen server). */
  commandTimeoutMs?: number;
}

/** One ioredis client and the prefix its keys live under. */
export interface RedisConnection {
  readonly redis: Redis;
  readonly prefix: string;
  /** The URL without its password, for logs. */
  readonly where: string;
  /** `<prefix><parts joined by ':'>`. */
  key(...parts: string[]): string;
  /** A second connection to the same server and prefix (pub/sub and blocking reads need one). */
  duplicate(name: string): Promise<RedisConnection>;
  /** Closes the connection (pending commands fail); idempotent. */
  close(): Promise<void>;
}

/**
 * Connects to Redis and resolves once the server answers. The prefix is applied by `key()`, not
 * by ioredis' `keyPrefix`: that one does not reach SCAN patterns, pub/sub channels or the
 * Socket.IO adapter, and one explicit rule for all of them is easier to check.
 * @throws an Error saying which server could not be reached and why; nothing is left open.
 */
export const connectRedis = async (options: RedisConnectOptions): Promise<RedisConnection> => {
  const prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
  checkRedisTarget(options.url, prefix);
  const where = redactRedisUrl(options.url);
  const log = options.logger.child({ component: 'redis', connection: options.name });
  const clientOptions: RedisOptions = {
    lazyConnect: true,
    connectionName: options.name,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    // Fail a command after one reconnect attempt instead of twenty: callers have their own
    // deadlines (a lease is only good until its ttl), and a command replayed late is worse.
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    ...(options.commandTimeoutMs ? { commandTimeout: options.commandTimeoutMs } : {}),
  };
  const redis = new Redis(options.url, clientOptions);
  // Without a listener ioredis prints every failed reconnect; these go to the log, throttled
  // to one line per outage.
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    log.warn({ where, err: err.message }, 'Redis connection failed; retrying');
  });
  redis.on('ready', () => {
    if (down) log.info({ where }, 'Redis connection back');
    down = false;
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new Error(`Redis at ${where} cannot be reached: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let closed = false;
  return {
    redis,
    prefix,
    where,
    key: (...parts) => `${prefix}${parts.join(':')}`,
    duplicate: (name) => connectRedis({ ...options, prefix, name }),
    close: async () => {
      if (closed) return;
      closed = true;
      // QUIT waits for the server's answer; a frozen or lost server must not hold a shutdown.
      const quit = redis.quit().catch(() => {});
      const timer = setTimeout(() => redis.disconnect(), 1_000);
      await quit;
      clearTimeout(timer);
      redis.disconnect();
    },
  };
};
