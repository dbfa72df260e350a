import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { root } from './helpers/childServer.js';

// Issue 21: the API's main thread once loaded Baileys through @pollmasters/worker's index
// (forgetLogin -> authState): its protobuf and WASM sources, their code and instances, about
// 40 MB of RSS in a thread that never speaks WhatsApp. Only the worker threads need it.

/** A resolve hook that prints every module URL the process loads, one a line. */
const HOOK = `export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  process.stderr.write('loaded ' + resolved.url + '\\n');
  return resolved;
}`;
const REGISTER = `import { register } from 'node:module';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});`;

/** The URLs of every module loaded by importing `specifiers`, as the server runs from source. */
const modulesLoadedBy = (specifiers: string[]): string[] => {
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      `data:text/javascript,${encodeURIComponent(REGISTER)}`,
      '--input-type=module',
      '-e',
      specifiers.map((s) => `await import(${JSON.stringify(s)});`).join('\n'),
    ],
    { cwd: root, encoding: 'utf8', timeout: 60_000 },
  );
  expect(result.status, result.stderr).toBe(0);
  return result.stderr
    .split('\n')
    .filter((line) => line.startsWith('loaded '))
    .map((line) => line.slice('loaded '.length));
};

const isBaileys = (url: string) => url.includes('@whiskeysockets/baileys');

describe("the API's main thread", () => {
  it('loads no Baileys: the API, the worker index and the sandbox probe are free of it', () => {
    const loaded = modulesLoadedBy([
      '@pollmasters/api',
      '@pollmasters/worker',
      '@pollmasters/worker/sandbox/remote',
    ]);
    expect(loaded.some((url) => url.includes('/packages/api/'))).toBe(true);
    expect(loaded.filter(isBaileys)).toEqual([]);
    // The same watch sees Baileys where it is loaded: the sandbox network itself.
    expect(modulesLoadedBy(['@pollmasters/worker/sandbox']).some(isBaileys)).toBe(true);
  }, 90_000);
});
