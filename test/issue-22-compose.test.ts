import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseCommandLine } from '../packages/api/src/cli.js';
import { root } from './helpers/childServer.js';

// Issue #22: compose.yaml runs PostgreSQL, Redis and three nodes. Each node's environment must be
// settings this server reads, and make a valid cluster node configuration: a misspelt variable
// would be ignored silently and leave the node alone (or refused at start).

interface Service {
  environment?: Record<string, string | number>;
  ports?: string[];
}

const compose = parse(readFileSync(join(root, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
/** `${NAME:?message}` as compose substitutes it, with `value` for NAME. */
const substituted = (value: string | number, given: Record<string, string>) =>
  String(value).replace(/\$\{(\w+)(?::\?[^}]*)?\}/g, (_, name: string) => given[name] ?? '');

it("compose.yaml's nodes are one cluster: known settings, one store, one Redis, distinct node ids", () => {
  const nodes = Object.entries(compose.services).filter(([, s]) =>
    Object.keys(s.environment ?? {}).includes('POLLMASTERS_REDIS_URL'),
  );
  expect(nodes.map(([name]) => name)).toEqual(['node1', 'node2', 'node3']);
  const configs = nodes.map(([name, service]) => {
    const env = Object.fromEntries(
      Object.entries(service.environment ?? {}).map(([k, v]) => [
        k,
        substituted(v, { POLLMASTERS_API_KEY: 'k'.repeat(32) }),
      ]),
    );
    // Every variable is one the server reads: --help names each.
    const help = parseCommandLine(['--help'], {});
    if (!('help' in help)) throw new Error('no help');
    for (const variable of Object.keys(env)) {
      expect(help.help, `${variable} in --help`).toContain(`[${variable}`);
    }
    const parsed = parseCommandLine([], env);
    if (!('config' in parsed)) throw new Error(`${name}: ${JSON.stringify(parsed)}`);
    return parsed.config;
  });
  for (const config of configs) {
    expect(config.databaseUrl).toMatch(/^postgres:\/\/.+@postgres:5432\//);
    expect(config.redisUrl).toBe('redis://redis:6379');
    expect(config.host).toBe('0.0.0.0');
    expect(config.apiKey).toBeDefined();
  }
  expect(new Set(configs.map((c) => c.nodeId)).size).toBe(3);
  expect(new Set(configs.map((c) => c.databaseUrl)).size).toBe(1);
});
