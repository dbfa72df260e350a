import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { root, SERVER_COMMAND } from './helpers/childServer.js';

it('pnpm start runs the build with the flags the process tests (and the bench) run it with', () => {
  const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const [build, run] = scripts.start.split('&&').map((part) => part.trim());
  expect(build).toBe('tsx scripts/build.ts');
  expect(run?.split(/\s+/)).toEqual(['node', ...SERVER_COMMAND]);
});
