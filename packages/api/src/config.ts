import { PollTracking } from '@pollmasters/shared';
import { parseAllowList } from '@pollmasters/worker';
import { z } from 'zod';

/** Server configuration: flags mirror the environment variables (see README). */
export const Config = z
  .object({
    port: z.coerce.number().int().min(0).max(65_535).default(3000),
    host: z.string().min(1).default('127.0.0.1'),
    dataDir: z.string().min(1).default('./data'),
    /**
     * A PostgreSQL URL: the sessions' store (logins, polls, votes, webhook outboxes) lives
     * there instead of in SQLite files under the data dir.
     */
    databaseUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
    /**
     * A Redis URL: this server is one node of a cluster (docs/cluster.md); the nodes share
     * their store, so it needs `databaseUrl`.
     */
    redisUrl: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
    /** This node's name in the cluster; `<host>-<8 hex>` when unset. */
    nodeId: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, '1 to 64 of A-Z a-z 0-9 . _ -')
      .optional(),
    /** What every Redis key and channel of the cluster starts with (several clusters, one Redis). */
    redisPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_.:/-]{1,100}$/, '1 to 100 of A-Z a-z 0-9 _ . : / -')
      .default('pollmasters:'),
    apiKey: z.string().min(16, 'POLLMASTERS_API_KEY must be at least 16 characters').optional(),
    baileysModule: z.string().min(1).default('@whiskeysockets/baileys'),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    /** Run against the simulated WhatsApp network (with these sandbox options). */
    sandbox: z.record(z.string(), z.unknown()).optional(),
    /**
     * Whose polls the session tracks (`own`, or `all`: other members' too), and how many votes
     * may wait for a poll not known yet, for how long (@pollmasters/shared PollTracking).
     */
    ...PollTracking.shape,
    /** Worker threads that host the sessions; one per core when unset. */
    workers: z.coerce.number().int().min(1).max(64).optional(),
    /**
     * What opens votes in the worker threads: `auto`, the native addon (packages/worker/native)
     * when it is built, else node:crypto; `node`, node:crypto always.
     */
    voteCipher: z.enum(['auto', 'node']).default('auto'),
    /** Sessions (WhatsApp accounts) the server may have. */
    maxSessions: z.coerce.number().int().min(1).max(10_000).default(100),
    /** Pause between sends of one multi-chat send. */
    sendDelayMs: z.coerce.number().int().min(0).max(60_000).default(1_000),
    /**
     * Bytes that may wait on a tRPC subscriber's WebSocket before its subscription is ended
     * (it resumes by `lastEventId`); 8 MiB when unset.
     */
    subscriberMaxBufferedBytes: z.coerce
      .number()
      .int()
      .min(16 * 1024)
      .optional(),
    /**
     * Hosts and CIDRs that webhooks may reach although loopback, private or link-local (a
     * comma-separated list, as POLLMASTERS_WEBHOOK_ALLOW gives it, or an array).
     */
    webhookAllow: z
      .union([z.string(), z.array(z.string())])
      .default([])
      .transform((v, ctx) => {
        const entries = (typeof v === 'string' ? v.split(',') : v).map((e) => e.trim());
        try {
          parseAllowList(entries);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
        return entries.filter((e) => e !== '');
      }),
    /** Attempts per webhook delivery before it is `failed`. */
    webhookMaxAttempts: z.coerce.number().int().min(1).max(100).default(8),
    /** The first retry's delay of a webhook delivery; doubles each time (with jitter). */
    webhookRetryBaseMs: z.coerce.number().int().min(1).max(3_600_000).default(5_000),
    /** The built web dashboard served at `/`; packages/web/dist when unset. */
    webDir: z.string().min(1).optional(),
  })
  // Off loopback, a keyless server would hand the WhatsApp account to the whole network.
  .refine((c) => c.apiKey !== undefined || isLoopback(c.host), {
    message: 'POLLMASTERS_API_KEY is required when HOST is not a loopback address',
    path: ['apiKey'],
  })
  // The nodes of a cluster take over each other's sessions: they must share one store.
  .refine((c) => c.redisUrl === undefined || c.databaseUrl !== undefined, {
    message:
      'needs POLLMASTERS_DATABASE_URL too: the nodes of a cluster share their store in PostgreSQL',
    path: ['redisUrl'],
  });
export type Config = z.output<typeof Config>;
export type ConfigInput = z.input<typeof Config>;

/** Whether a bind address reaches this machine only. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return (
    h === 'localhost' ||
    h === '::1' ||
    h === '0:0:0:0:0:0:0:1' ||
    /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
  );
}
