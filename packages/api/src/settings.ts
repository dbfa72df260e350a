import type { Config } from './config.js';

export interface Setting {
  flag: string;
  /** The environment variable it mirrors, if any. */
  env?: string;
  /** The `Config` field, for naming the flag in errors. */
  field?: keyof Config | `sandbox.${string}`;
  value?: string;
  boolean?: boolean;
  /** A whole number (checked by ./cli.ts before the schema, so that the error names the flag). */
  integer?: boolean;
  /** What `--help` shows as the default when there is no `field` to take it from. */
  fallback?: string;
  help: string;
}

/** Every flag, in the order `--help` lists them. The one table of names and defaults. */
export const settings = [
  {
    flag: 'port',
    env: 'PORT',
    field: 'port',
    value: 'n',
    integer: true,
    help: 'TCP port; 0 picks a free one',
  },
  {
    flag: 'host',
    env: 'HOST',
    field: 'host',
    value: 'addr',
    help: 'address to bind; off loopback an API key is required',
  },
  {
    flag: 'data-dir',
    env: 'POLLMASTERS_DATA_DIR',
    field: 'dataDir',
    value: 'path',
    help: 'where the SQLite database (auth state, polls, votes) lives',
  },
  {
    flag: 'database-url',
    env: 'POLLMASTERS_DATABASE_URL',
    field: 'databaseUrl',
    value: 'url',
    fallback: '(SQLite in the data dir)',
    help: 'PostgreSQL URL: keep logins, polls, votes and webhooks there; prefer the env variable',
  },
  {
    flag: 'redis-url',
    env: 'POLLMASTERS_REDIS_URL',
    field: 'redisUrl',
    value: 'url',
    fallback: '(one node, no cluster)',
    help: 'Redis URL: run as one node of a cluster (needs --database-url); prefer the env variable',
  },
  {
    flag: 'node-id',
    env: 'POLLMASTERS_NODE_ID',
    field: 'nodeId',
    value: 'id',
    fallback: '(<host>-<8 hex>)',
    help: "this node's name in the cluster (1 to 64 of A-Z a-z 0-9 . _ -)",
  },
  {
    flag: 'redis-prefix',
    env: 'POLLMASTERS_REDIS_PREFIX',
    field: 'redisPrefix',
    value: 'prefix',
    help: "what the cluster's Redis keys start with (several clusters on one Redis)",
  },
  {
    flag: 'api-key',
    env: 'POLLMASTERS_API_KEY',
    field: 'apiKey',
    value: 'key',
    fallback: '(none)',
    help: 'when set, every client must send it (16+ characters); prefer the env variable',
  },
  {
    flag: 'baileys-module',
    env: 'POLLMASTERS_BAILEYS_MODULE',
    field: 'baileysModule',
    value: 'module',
    help: 'module that provides makeWASocket',
  },
  {
    flag: 'log-level',
    env: 'LOG_LEVEL',
    field: 'logLevel',
    value: 'level',
    help: 'fatal, error, warn, info, debug, trace or silent (logs go to stderr)',
  },
  {
    flag: 'send-delay-ms',
    env: 'POLLMASTERS_SEND_DELAY_MS',
    field: 'sendDelayMs',
    value: 'ms',
    integer: true,
    help: 'pause between the sends of one multi-chat send',
  },
  {
    flag: 'track-polls',
    env: 'POLLMASTERS_TRACK_POLLS',
    field: 'trackPolls',
    value: 'own|all',
    help: "whose polls to track: the account's own, or all its chats' (other members' too)",
  },
  {
    flag: 'early-votes-max',
    env: 'POLLMASTERS_EARLY_VOTES_MAX',
    field: 'earlyVotesMax',
    value: 'n',
    integer: true,
    help: 'votes kept while their poll is unknown; beyond, the oldest is rejected (unknown_poll)',
  },
  {
    flag: 'early-vote-max-age',
    env: 'POLLMASTERS_EARLY_VOTE_MAX_AGE',
    field: 'earlyVoteMaxAgeSec',
    value: 's',
    integer: true,
    help: 'seconds a vote waits for its unknown poll before it is rejected (unknown_poll)',
  },
  {
    flag: 'workers',
    env: 'POLLMASTERS_WORKERS',
    field: 'workers',
    value: 'n',
    integer: true,
    fallback: '(one per core)',
    help: 'worker threads that host the sessions',
  },
  {
    flag: 'vote-cipher',
    env: 'POLLMASTERS_VOTE_CIPHER',
    field: 'voteCipher',
    value: 'auto|node',
    help: 'what opens votes: auto (the native addon when built, else node:crypto) or node',
  },
  {
    flag: 'max-sessions',
    env: 'POLLMASTERS_MAX_SESSIONS',
    field: 'maxSessions',
    value: 'n',
    integer: true,
    help: 'sessions (WhatsApp accounts) this server may have',
  },
  {
    flag: 'webhook-allow',
    env: 'POLLMASTERS_WEBHOOK_ALLOW',
    field: 'webhookAllow',
    value: 'list',
    fallback: '(none)',
    help: 'hosts and CIDRs webhooks may reach although loopback or private (comma-separated)',
  },
  {
    flag: 'webhook-max-attempts',
    env: 'POLLMASTERS_WEBHOOK_MAX_ATTEMPTS',
    field: 'webhookMaxAttempts',
    value: 'n',
    integer: true,
    help: 'attempts per webhook delivery before it is failed',
  },
  {
    flag: 'webhook-retry-base-ms',
    env: 'POLLMASTERS_WEBHOOK_RETRY_BASE_MS',
    field: 'webhookRetryBaseMs',
    value: 'ms',
    integer: true,
    help: "a failed delivery's first retry delay; each next one doubles (with jitter), up to 1 h",
  },
  {
    flag: 'pair',
    value: 'phone',
    fallback: '(QR)',
    help: 'log in with a pairing code for this number (country code, digits) instead of the QR',
  },
  {
    flag: 'sandbox',
    boolean: true,
    fallback: 'off',
    help: 'run against the simulated WhatsApp network, offline',
  },
  {
    flag: 'demo',
    boolean: true,
    fallback: 'off',
    help: 'with --sandbox: send a demo poll to every sandbox chat now and then',
  },
  {
    flag: 'demo-every',
    value: 's',
    fallback: '30',
    help: 'seconds between two rounds of demo polls',
  },
  {
    flag: 'sessions',
    value: 'n',
    fallback: '1',
    help: 'with --sandbox: run this many accounts (sessions default, s2 ... sN), each its own world',
  },
  {
    flag: 'seed',
    field: 'sandbox.seed',
    value: 'n',
    integer: true,
    help: 'sandbox: seeds its people, chats and votes',
  },
  {
    flag: 'groups',
    field: 'sandbox.groups',
    value: 'n',
    integer: true,
    help: 'sandbox: LID-addressed groups (plus one PN group)',
  },
  {
    flag: 'members',
    field: 'sandbox.membersPerGroup',
    value: 'n',
    integer: true,
    help: 'sandbox: members per group',
  },
  {
    flag: 'direct-chats',
    field: 'sandbox.directChats',
    value: 'n',
    integer: true,
    help: 'sandbox: PN direct chats (plus one LID chat)',
  },
  {
    flag: 'history-polls',
    field: 'sandbox.historyPolls',
    value: 'n',
    integer: true,
    help: "sandbox: polls from before the link (the phone's and members') in the first login's history",
  },
  {
    flag: 'ack-delay-ms',
    field: 'sandbox.ackDelayMs',
    value: 'ms',
    integer: true,
    help: "sandbox: time until our socket's acknowledgement of a message reaches WhatsApp (a message not yet acknowledged when the server dies comes again at the next login; one acknowledged is not)",
  },
  { flag: 'help', boolean: true, fallback: '', help: 'show this help' },
] as const satisfies readonly Setting[];
