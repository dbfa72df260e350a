import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { root } from './helpers/childServer.js';

// Issue #20: `pnpm test` makes sure the browser tests have their Chromium, or stops at once
// with the command to run; it never lets them be skipped.

const SCRIPT = join(root, 'scripts/ensure-chromium.sh');
const run = (chromium: string) =>
  spawnSync('sh', [SCRIPT], {
    encoding: 'utf8',
    env: { ...process.env, POLLMASTERS_CHROMIUM: chromium },
  });

it('passes when the Chromium is there', () => {
  expect(run('/bin/sh').status).toBe(0);
});

it('stops with the command to run when it is missing', () => {
  const result = run('/nonexistent/chromium');
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('sudo apt-get update && sudo apt-get install -y chromium');
});
