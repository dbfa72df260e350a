import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/cli.js';

const run = (argv: string[], env: Record<string, string> = {}) => {
  const result = parseCommandLine(argv, env);
  if (!('config' in result)) throw new Error(`expected a config, got ${JSON.stringify(result)}`);
  return result;
};
const fail = (argv: string[], env: Record<string, string> = {}) => {
  const result = parseCommandLine(argv, env);
  if (!('error' in result)) throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  return result.error;
};

describe('parseCommandLine', () => {
  it('has the defaults of docs/design.md with no flags and no environment', () => {
    expect(run([])).toEqual({
      config: {
        port: 3000,
        host: '127.0.0.1',
        dataDir: './data',
        baileysModule: '@whiskeysockets/baileys',
        logLevel: 'info',
        trackPolls: 'own',
        earlyVotesMax: 10_000,
        earlyVoteMaxAgeSec: 86_400,
        maxSessions: 100,
        voteCipher: 'auto',
        sendDelayMs: 1000,
        webhookAllow: [],
        webhookMaxAttempts: 8,
        webhookRetryBaseMs: 5000,
        redisPrefix: 'pollmasters:',
      },
      pair: null,
      demoEveryMs: null,
      sandboxSessions: 1,
    });
  });

  it('reads every environment variable; empty ones count as unset', () => {
    const { config } = run([], {
      PORT: '8080',
      HOST: '::1',
      POLLMASTERS_DATA_DIR: '/var/lib/pm',
      POLLMASTERS_API_KEY: 'k'.repeat(20),
      POLLMASTERS_BAILEYS_MODULE: 'my-baileys',
      LOG_LEVEL: 'debug',
      POLLMASTERS_SEND_DELAY_MS: '0',
      POLLMASTERS_TRACK_POLLS: 'all',
      POLLMASTERS_EARLY_VOTES_MAX: '0',
      POLLMASTERS_EARLY_VOTE_MAX_AGE: '60',
      POLLMASTERS_WORKERS: '3',
      POLLMASTERS_MAX_SESSIONS: '20',
      POLLMASTERS_WEBHOOK_ALLOW: '127.0.0.1, 10.0.0.0/8,hooks.lan',
      POLLMASTERS_WEBHOOK_MAX_ATTEMPTS: '3',
      POLLMASTERS_WEBHOOK_RETRY_BASE_MS: '100',
      POLLMASTERS_DATABASE_URL: 'postgres://pm@db:5432/pm',
      POLLMASTERS_REDIS_URL: 'redis://redis:6379',
      POLLMASTERS_NODE_ID: 'node-1',
      POLLMASTERS_REDIS_PREFIX: 'pm-test:',
      POLLMASTERS_VOTE_CIPHER: 'node',
    });
    expect(config).toEqual({
      port: 8080,
      host: '::1',
      dataDir: '/var/lib/pm',
      apiKey: 'k'.repeat(20),
      baileysModule: 'my-baileys',
      logLevel: 'debug',
      trackPolls: 'all',
      earlyVotesMax: 0,
      earlyVoteMaxAgeSec: 60,
      workers: 3,
      maxSessions: 20,
      sendDelayMs: 0,
      webhookAllow: ['127.0.0.1', '10.0.0.0/8', 'hooks.lan'],
      webhookMaxAttempts: 3,
      webhookRetryBaseMs: 100,
      databaseUrl: 'postgres://pm@db:5432/pm',
      redisUrl: 'redis://redis:6379',
      nodeId: 'node-1',
      redisPrefix: 'pm-test:',
      voteCipher: 'node',
    });
    expect(parseCommandLine([], { POLLMASTERS_WEBHOOK_ALLOW: '10.0.0.0/33' })).toEqual({
      error:
        'invalid configuration: --webhook-allow (POLLMASTERS_WEBHOOK_ALLOW): webhook allow list: bad prefix length in "10.0.0.0/33"',
    });
    expect(run([], { PORT: '', POLLMASTERS_API_KEY: ' ' }).config).toMatchObject({ port: 3000 });
    expect(run([], { POLLMASTERS_API_KEY: '' }).config.apiKey).toBeUndefined();
  });

  it('refuses a cluster without a shared store, and node ids and prefixes that cannot be keys', () => {
    expect(parseCommandLine(['--redis-url', 'redis://127.0.0.1:6379'], {})).toEqual({
      error:
        'invalid configuration: --redis-url (POLLMASTERS_REDIS_URL): needs POLLMASTERS_DATABASE_URL too: the nodes of a cluster share their store in PostgreSQL',
    });
    const db = { POLLMASTERS_DATABASE_URL: 'postgres://pm@db/pm' };
    expect(parseCommandLine(['--redis-url', 'http://x'], db)).toMatchObject({
      error: expect.stringContaining('--redis-url (POLLMASTERS_REDIS_URL): must be a redis://'),
    });
    expect(parseCommandLine(['--node-id', 'a b'], db)).toMatchObject({
      error: expect.stringContaining('--node-id (POLLMASTERS_NODE_ID): 1 to 64 of'),
    });
    expect(parseCommandLine(['--redis-prefix', 'pm*'], db)).toMatchObject({
      error: expect.stringContaining('--redis-prefix (POLLMASTERS_REDIS_PREFIX): 1 to 100 of'),
    });
    expect(
      run(['--redis-url', 'redis://r:6379', '--node-id', 'n2', '--redis-prefix', 'c2:'], db).config,
    ).toMatchObject({ redisUrl: 'redis://r:6379', nodeId: 'n2', redisPrefix: 'c2:' });
  });

  it('lets flags win over the environment, after the `--` pnpm passes on', () => {
    const { config } = run(
      ['--', '--port', '0', '--host', 'localhost', '--data-dir', 'd', '--log-level', 'warn'],
      { PORT: '8080', HOST: '127.0.0.2', LOG_LEVEL: 'debug' },
    );
    expect(config).toMatchObject({ port: 0, host: 'localhost', dataDir: 'd', logLevel: 'warn' });
    expect(run(['--send-delay-ms=250']).config.sendDelayMs).toBe(250);
    expect(
      run(['--track-polls', 'all', '--early-vote-max-age', '5'], {
        POLLMASTERS_TRACK_POLLS: 'own',
      }).config,
    ).toMatchObject({ trackPolls: 'all', earlyVoteMaxAgeSec: 5 });
  });

  it('builds sandbox options, the demo interval and the pairing number', () => {
    const sandbox = run([
      '--sandbox',
      '--seed',
      '7',
      '--groups',
      '3',
      '--members',
      '4',
      '--history-polls',
      '2',
      '--ack-delay-ms',
      '250',
    ]);
    expect(sandbox.config.sandbox).toEqual({
      seed: 7,
      groups: 3,
      membersPerGroup: 4,
      historyPolls: 2,
      ackDelayMs: 250,
    });
    expect(sandbox.demoEveryMs).toBeNull();
    expect(run(['--sandbox']).config.sandbox).toEqual({});
    expect(run(['--sandbox', '--demo']).demoEveryMs).toBe(30_000);
    expect(run(['--sandbox', '--demo-every', '5']).demoEveryMs).toBe(5_000);
    expect(run(['--sandbox', '--sessions', '3']).sandboxSessions).toBe(3);
    expect(run(['--sandbox']).sandboxSessions).toBe(1);
    expect(run(['--pair', '+49 170 1234567']).pair).toBe('491701234567');
    expect(run([]).config.sandbox).toBeUndefined();
  });

  it('answers --help with every flag, its variable and its default', () => {
    const result = parseCommandLine(['--help', '--port', 'nonsense'], {});
    if (!('help' in result)) throw new Error('expected help');
    // Named here, not taken from the settings table the help is generated from.
    for (const flag of [
      'port',
      'host',
      'data-dir',
      'database-url',
      'api-key',
      'baileys-module',
      'log-level',
      'send-delay-ms',
      'pair',
      'sandbox',
      'demo',
      'demo-every',
      'sessions',
      'seed',
      'track-polls',
      'early-votes-max',
      'early-vote-max-age',
    ])
      expect(result.help).toContain(`--${flag} `);
    for (const env of [
      'PORT',
      'HOST',
      'POLLMASTERS_DATA_DIR',
      'POLLMASTERS_DATABASE_URL',
      'POLLMASTERS_API_KEY',
      'LOG_LEVEL',
    ])
      expect(result.help).toContain(env);
    expect(result.help).toMatch(/--port <n>.*\[PORT, default 3000\]/);
    expect(result.help).toMatch(/--host <addr>.*\[HOST, default 127\.0\.0\.1\]/);
    expect(result.help).toMatch(/--data-dir <path>.*\[POLLMASTERS_DATA_DIR, default \.\/data\]/);
    expect(result.help).toMatch(
      /--track-polls <own\|all>.*\[POLLMASTERS_TRACK_POLLS, default own\]/,
    );
    expect(result.help).toMatch(
      /--early-votes-max <n>.*\[POLLMASTERS_EARLY_VOTES_MAX, default 10000\]/,
    );
    expect(result.help).toMatch(
      /--early-vote-max-age <s>.*\[POLLMASTERS_EARLY_VOTE_MAX_AGE, default 86400\]/,
    );
  });

  it.each([
    [
      ['--port', 'abc'],
      {},
      'invalid configuration: --port (PORT): must be a whole number, got "abc"',
    ],
    [[], { PORT: '70000' }, 'invalid configuration: --port (PORT): '],
    [['--log-level', 'loud'], {}, 'invalid configuration: --log-level (LOG_LEVEL): '],
    [
      [],
      { POLLMASTERS_API_KEY: 'short' },
      'invalid configuration: --api-key (POLLMASTERS_API_KEY): ',
    ],
    [['--host', '0.0.0.0'], {}, 'POLLMASTERS_API_KEY'],
    [['--bogus'], {}, "Unknown option '--bogus' (see --help)"],
    [['extra'], {}, "Unexpected argument 'extra' (see --help)"],
    [['--sandbox', '--groups', '0'], {}, 'invalid configuration: --groups: '],
    [['--demo'], {}, '--demo needs --sandbox'],
    [['--sessions', '3'], {}, '--sessions needs --sandbox'],
    [['--sandbox', '--sessions', '0'], {}, '--sessions: must be 1 to 100'],
    [['--sandbox', '--sessions', 'x'], {}, '--sessions: must be a whole number'],
    [
      ['--sandbox', '--sessions', '11'],
      { POLLMASTERS_MAX_SESSIONS: '10' },
      '--sessions: must be 1 to 10 (POLLMASTERS_MAX_SESSIONS)',
    ],
    [['--sandbox', '--demo-every', '0'], {}, '--demo-every: must be 1 to 3600 seconds'],
    [['--pair', 'abc'], {}, 'invalid configuration: --pair: must be a phone number'],
    [
      ['--track-polls', 'mine'],
      {},
      'invalid configuration: --track-polls (POLLMASTERS_TRACK_POLLS): ',
    ],
    [[], { POLLMASTERS_EARLY_VOTES_MAX: '-1' }, 'invalid configuration: --early-votes-max'],
    [
      ['--vote-cipher', 'fast'],
      {},
      'invalid configuration: --vote-cipher (POLLMASTERS_VOTE_CIPHER): ',
    ],
    [['--early-vote-max-age', '0'], {}, 'invalid configuration: --early-vote-max-age'],
    [
      [],
      { POLLMASTERS_DATABASE_URL: 'mysql://db/pollmasters' },
      'invalid configuration: --database-url (POLLMASTERS_DATABASE_URL): must be a postgres:// URL',
    ],
  ])('rejects %j %j with one line', (argv, env, message) => {
    const error = fail(argv, env);
    expect(error).toContain(message);
    expect(error).not.toContain('\n');
  });
});
