import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';

/**
 * Debian's interpreter, where `pnpm test` installs python3-socketio and python3-requests first
 * (scripts/ensure-python-deps.sh, which reads the same variable).
 */
const PYTHON = process.env.POLLMASTERS_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./python/gui_client_test.py', import.meta.url));

let server: TestServer | undefined;
afterEach(async () => {
  await server?.destroy();
  server = undefined;
});

it('the Python GUI client works against the compat API', { timeout: 120_000 }, async () => {
  const probe = spawnSync(PYTHON, ['-c', 'import socketio, requests'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `${PYTHON} cannot import socketio and requests (${probe.error?.message ?? probe.stderr.trim()}): ` +
        'apt-get update && apt-get install -y python3-socketio python3-requests',
    );
  }
  server = await startTestServer({ sandbox: { voteDelayMs: { min: 10, max: 80 } } });
  // Asynchronously: the server answers from this very process.
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    execFile(
      PYTHON,
      [SCRIPT, server!.url],
      { timeout: 100_000, env: { ...process.env, PYTHONUNBUFFERED: '1' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({
          code,
          output: `${stdout}${stderr}${err && code === null ? `\n${err.message}` : ''}`,
        });
      },
    );
  });
  expect(code, `gui_client_test.py failed:\n${output}`).toBe(0);
  expect(output).toContain('all votes counted');
});
