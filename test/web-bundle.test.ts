import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './helpers/childServer.js';

// Issue #20: the dashboard imports only the browser-safe contract. The build (../globalSetup.ts
// runs `pnpm build`, which builds packages/web) lists every module it bundled
// (packages/web/vite.config.ts); none may be a Node built-in or Node-only code of ours.

const dist = join(root, 'packages/web/dist');
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** A bundled module that only Node can run, or Vite's stub for a Node built-in. */
const nodeOnly = (id: string): boolean =>
  builtins.has(id) ||
  id.startsWith('node:') ||
  id.includes('__vite-browser-external') ||
  /packages\/shared\/src\/node\//.test(id) ||
  /\/node_modules\/(ws|pino|better-sqlite3|@whiskeysockets)\//.test(id);

describe('web bundle', () => {
  it('is built from the browser-safe contract, with no Node built-in', () => {
    const modules = JSON.parse(readFileSync(join(dist, '.vite/modules.json'), 'utf8')) as string[];
    // The list must be the real one: the page, React, tRPC and the shared contract.
    expect(modules.some((id) => id.endsWith('packages/web/src/main.tsx'))).toBe(true);
    expect(modules.some((id) => id.endsWith('packages/shared/src/index.ts'))).toBe(true);
    expect(modules.filter(nodeOnly)).toEqual([]);
  });

  it('imports no Node module in the code it ships', () => {
    const assets = readdirSync(join(dist, 'assets')).filter((name) => name.endsWith('.js'));
    expect(assets.length).toBeGreaterThan(0);
    const names = [...builtins].map((n) => n.replace(/[/]/g, '\\/')).join('|');
    // `from "fs"`, `import("node:fs")`, `require("worker_threads")`, minified or not.
    const nodeImport = new RegExp(`(?:from|import|require)\\s*\\(?\\s*["'](?:${names})["']`);
    for (const name of assets) {
      const code = readFileSync(join(dist, 'assets', name), 'utf8');
      expect(code.match(nodeImport)?.[0] ?? null, name).toBeNull();
    }
  });
});
