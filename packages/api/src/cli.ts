import { parseArgs } from 'node:util';
import { PhoneNumber } from '@pollmasters/shared';
import { SandboxOptions } from '@pollmasters/worker/sandbox/remote';
import { Config } from './config.js';
import { type Setting, settings } from './settings.js';

/** What the server's command line asks for. */
export type CommandLine =
  | {
      config: Config;
      /** Log in with a pairing code for this phone number instead of the QR. */
      pair: string | null;
      /** In sandbox mode: send a demo poll to every chat this often. */
      demoEveryMs: number | null;
      /** In sandbox mode: how many sessions run (`default`, `s2` ... `sN`). */
      sandboxSessions: number;
    }
  | { help: string }
  | { error: string };

type Flag = (typeof settings)[number]['flag'];

const usage = (): string => {
  const rows = (settings as readonly Setting[]).map((s) => {
    const name = `--${s.flag}${s.value ? ` <${s.value}>` : ''}`;
    const fallback = defaultOf(s);
    const origin = [s.env, fallback && `default ${fallback}`].filter(Boolean).join(', ');
    return `  ${name.padEnd(26)} ${s.help}${origin ? ` [${origin}]` : ''}`;
  });
  return [
    'Usage: pnpm start [-- <options>]',
    '   or: bin/pollmasters [<options>]   (the launcher that pnpm start runs)',
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
    '  pnpm start -- --sandbox --sessions 3 --demo   three accounts voting, offline',
    '',
  ].join('\n');
};

const defaults = { ...Config.parse({}), sandbox: SandboxOptions.parse({}) };

/** The default `--help` shows: the schema's (one source of truth), else the table's. */
const defaultOf = (s: Setting): string | undefined => {
  const [head, tail] = (s.field ?? '').split('.') as [string, string?];
  const value = tail
    ? (defaults.sandbox as Record<string, unknown>)[tail]
    : (defaults as Record<string, unknown>)[head];
  return value === undefined || typeof value === 'object' ? s.fallback : String(value);
};

/** The flag (and its variable) as errors name it. */
const labelOf = (s: Setting): string => (s.env ? `--${s.flag} (${s.env})` : `--${s.flag}`);

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
  return setting ? labelOf(setting) : field || 'configuration';
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

  // Every setting with a field goes to the Config (or its sandbox options), from its flag or
  // else its variable: the table above is the only list of names.
  const configInput: Record<string, unknown> = {};
  const sandboxInput: Record<string, unknown> = {};
  const misplaced: string[] = [];
  for (const s of settings as readonly Setting[]) {
    if (!s.field) continue;
    const text = str(s.flag as Flag) ?? (s.env ? fromEnv(s.env) : undefined);
    const value = s.integer ? integer(labelOf(s), text) : text;
    if (value === undefined) continue;
    if (!s.field.startsWith('sandbox.')) configInput[s.field] = value;
    else if (values.sandbox) sandboxInput[s.field.slice('sandbox.'.length)] = value;
    else misplaced.push(`--${s.flag}`);
  }
  if (!values.sandbox) {
    for (const f of ['demo', 'demo-every', 'sessions'] as const)
      if (values[f] !== undefined) misplaced.push(`--${f}`);
    if (misplaced.length) return { error: `${misplaced.join(', ')} needs --sandbox` };
  } else {
    const sandbox = SandboxOptions.safeParse(sandboxInput);
    if (!sandbox.success) {
      return { error: `invalid configuration: ${firstIssue(sandbox.error, 'sandbox')}` };
    }
  }

  const parsed = Config.safeParse({
    ...configInput,
    sandbox: values.sandbox ? sandboxInput : undefined,
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
  const sandboxSessions = integer('--sessions', str('sessions')) ?? 1;
  if (sandboxSessions < 1 || sandboxSessions > parsed.data.maxSessions) {
    return {
      error: `invalid configuration: --sessions: must be 1 to ${parsed.data.maxSessions} (POLLMASTERS_MAX_SESSIONS)`,
    };
  }
  return { config: parsed.data, pair, demoEveryMs, sandboxSessions };
};
