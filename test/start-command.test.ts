import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { SERVER_ENV } from '../scripts/build.js';
import { root, SERVER_COMMAND } from './helpers/childServer.js';

it('pnpm start runs the build with the flags the process tests (and the bench) run it with', () => {
  const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const [build, run] = scripts.start.split('&&').map((part) => part.trim());
  expect(build).toBe('tsx scripts/build.ts');
  const env = Object.entries(SERVER_ENV).map(([name, value]) => `${name}=${value}`);
  expect(run?.split(/\s+/)).toEqual([...env, 'node', ...SERVER_COMMAND]);
});
