import { parseArgs } from 'node:util';
import { PhoneNumber } from '@pollmasters/shared';
import { SandboxOptions } from '@pollmasters/worker/sandbox';
import { Config } from './config.js';

/** What the server's command line asks for. */
export type CommandLine =
  | {
      config: Config;
      /** Log in with a pairing code for this phone number instead of the QR. */
      pair: string | null;
      /** In sandbox mode: send a demo poll to every chat this often. */
      demoEveryMs: number | null;
    }
  | { help: string }
  | { error: string };

interface Setting {
  flag: string;
  /** The environment variable it mirrors, if any. */
  env?: string;
  /** The `Config` field, for naming the flag in errors. */
  field?: keyof Config | `sandbox.${string}`;
  value?: string;
  boolean?: boolean;
  fallback: string;
  help: string;
}

/** Every flag, in the order `--help` lists them. The one table of names and defaults. */
export const settings = [
  {
    flag: 'port',
    env: 'PORT',
    field: 'port',
    value: 'n',
    fallback: '3000',
    help: 'TCP port; 0 picks a free one',
  },
  {
    flag: 'host',
    env: 'HOST',
    field: 'host',
    value: 'addr',
    fallback: '127.0.0.1',
    help: 'address to bind; off loopback an API key is required',
  },
  {
    flag: 'data-dir',
    env: 'POLLMASTERS_DATA_DIR',
    field: 'dataDir',
    value: 'path',
    fallback: './data',
    help: 'where the SQLite database (auth state, polls, votes) lives',
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
    fallback: '@whiskeysockets/baileys',
    help: 'module that provides makeWASocket',
  },
  {
    flag: 'log-level',
    env: 'LOG_LEVEL',
    field: 'logLevel',
    value: 'level',
    fallback: 'info',
    help: 'fatal, error, warn, info, debug, trace or silent (logs go to stderr)',
  },
  {
    flag: 'send-delay-ms',
    env: 'POLLMASTERS_SEND_DELAY_MS',
    field: 'sendDelayMs',
    value: 'ms',
    fallback: '1000',
    help: 'pause between the sends of one multi-chat send',
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
    flag: 'seed',
    field: 'sandbox.seed',
    value: 'n',
    fallback: '1',
    help: 'sandbox: seeds its people, chats and votes',
  },
  {
    flag: 'groups',
    field: 'sandbox.groups',
    value: 'n',
    fallback: '2',
    help: 'sandbox: LID-addressed groups (plus one PN group)',
  },
  {
    flag: 'members',
    field: 'sandbox.membersPerGroup',
    value: 'n',
    fallback: '5',
    help: 'sandbox: members per group',
  },
  {
    flag: 'direct-chats',
    field: 'sandbox.directChats',
    value: 'n',
    fallback: '2',
    help: 'sandbox: PN direct chats (plus one LID chat)',
  },
  { flag: 'help', boolean: true, fallback: '', help: 'show this help' },
] as const satisfies readonly Setting[];

type Flag = (typeof settings)[number]['flag'];

const usage = (): string => {
  const rows = (settings as readonly Setting[]).map((s) => {
    const name = `--${s.flag}${s.value ? ` <${s.value}>` : ''}`;
    const origin = [s.env, s.fallback && `default ${s.fallback}`].filter(Boolean).join(', ');
    return `  ${name.padEnd(26)} ${s.help}${origin ? ` [${origin}]` : ''}`;
  });
  return [
    'Usage: pnpm start [-- <options>]',
    '',
    'PollMasters: a self-hosted WhatsApp poll service (tRPC under /trpc, the GUI API at /).',
    'Every option with a variable in brackets can also be set through that environment variable;',
    'a flag wins over the environment.',
    '',
    ...rows,
    '',
    'Examples:',
    '  pnpm start                          log in to WhatsApp with the QR shown here',
    '  pnpm start -- --pair 491701234567   log in with a pairing code instead',
    '  pnpm start -- --sandbox --demo      offline demo; watch it with `pnpm watch`',
    '',
  ].join('\n');
};

/** A flag or variable that is not what it must be: becomes the one error line. */
class BadSetting extends Error {}

/** A whole-number setting; the schema checks its range. */
const integer = (name: string, text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text.trim()))
    throw new BadSetting(`${name}: must be a whole number, got "${text}"`);
  return Number(text);
};

const nameOf = (path: readonly PropertyKey[]): string => {
  const field = path.map(String).join('.');
  const setting = (settings as readonly Setting[]).find((s) => s.field === field);
  if (!setting) return field || 'configuration';
  return setting.env ? `--${setting.flag} (${setting.env})` : `--${setting.flag}`;
};

const firstIssue = (error: { issues: { path: PropertyKey[]; message: string }[] }, prefix = '') => {
  const issue = error.issues[0];
  return issue ? `${nameOf([...(prefix ? [prefix] : []), ...issue.path])}: ${issue.message}` : '';
};

/**
 * Reads the server's flags and environment (flags win). Pure: never exits or prints, so that
 * it is tested as it is; `main.ts` acts on the result. Errors are one line.
 * @param argv the arguments after the script (`process.argv.slice(2)`)
 */
export const parseCommandLine = (
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CommandLine => {
  try {
    return parse(argv, env);
  } catch (err) {
    if (err instanceof BadSetting) return { error: `invalid configuration: ${err.message}` };
    throw err;
  }
};

const parse = (
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CommandLine => {
  // pnpm passes the `--` of `pnpm start -- --sandbox` through; it is not an argument.
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  const options = Object.fromEntries(
    settings.map((s) => [s.flag, { type: 'boolean' in s ? 'boolean' : 'string' }] as const),
  ) as Record<Flag, { type: 'boolean' | 'string' }>;
  let values: Partial<Record<Flag, string | boolean>>;
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const first = message.split(/\.\s/)[0]?.replace(/\.$/, '') ?? message;
    return { error: `${first} (see --help)` };
  }
  if (values.help) return { help: usage() };

  const str = (flag: Flag): string | undefined => {
    const value = values[flag];
    return typeof value === 'string' ? value : undefined;
  };
  const fromEnv = (name: string): string | undefined => env[name]?.trim() || undefined;
  const pick = (flag: Flag, envName: string) => str(flag) ?? fromEnv(envName);

  const sandboxInput = values.sandbox
    ? Object.fromEntries(
        (
          [
            ['seed', 'seed'],
            ['groups', 'groups'],
            ['membersPerGroup', 'members'],
            ['directChats', 'direct-chats'],
          ] as const
        )
          .map(([key, flag]) => [key, integer(`--${flag}`, str(flag))] as const)
          .filter(([, v]) => v !== undefined),
      )
    : undefined;
  if (!values.sandbox) {
    const misplaced = (['seed', 'groups', 'members', 'direct-chats', 'demo', 'demo-every'] as const)
      .filter((f) => values[f] !== undefined)
      .map((f) => `--${f}`);
    if (misplaced.length) return { error: `${misplaced.join(', ')} needs --sandbox` };
  }
  if (sandboxInput) {
    const sandbox = SandboxOptions.safeParse(sandboxInput);
    if (!sandbox.success) {
      return { error: `invalid configuration: ${firstIssue(sandbox.error, 'sandbox')}` };
    }
  }

  const parsed = Config.safeParse({
    port: integer('--port (PORT)', pick('port', 'PORT')),
    host: pick('host', 'HOST'),
    dataDir: pick('data-dir', 'POLLMASTERS_DATA_DIR'),
    apiKey: pick('api-key', 'POLLMASTERS_API_KEY'),
    baileysModule: pick('baileys-module', 'POLLMASTERS_BAILEYS_MODULE'),
    logLevel: pick('log-level', 'LOG_LEVEL'),
    sendDelayMs: integer(
      '--send-delay-ms (POLLMASTERS_SEND_DELAY_MS)',
      pick('send-delay-ms', 'POLLMASTERS_SEND_DELAY_MS'),
    ),
    sandbox: sandboxInput,
  });
  if (!parsed.success) return { error: `invalid configuration: ${firstIssue(parsed.error)}` };

  let pair: string | null = null;
  const phone = str('pair');
  if (phone !== undefined) {
    const checked = PhoneNumber.safeParse(phone);
    if (!checked.success) {
      return { error: `invalid configuration: --pair: ${checked.error.issues[0]?.message}` };
    }
    pair = checked.data;
  }

  let demoEveryMs: number | null = null;
  if (values.demo || values['demo-every'] !== undefined) {
    const every = integer('--demo-every', str('demo-every') ?? '30') ?? 30;
    if (every < 1 || every > 3_600) {
      return { error: 'invalid configuration: --demo-every: must be 1 to 3600 seconds' };
    }
    demoEveryMs = every * 1_000;
  }
  return { config: parsed.data, pair, demoEveryMs };
};
