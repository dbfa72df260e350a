import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';

// Issue 6: `pnpm watch` prints polls and live vote counts through the tRPC client.

const root = resolve(import.meta.dirname, '..');
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the watcher CLI', () => {
  it('prints a new poll and then its votes with counts', async () => {
    const server: TestServer = await startTestServer({
      sandbox: { seed: 3, voteDelayMs: { min: 5, max: 40 } },
    });
    cleanups.push(() => server.destroy());
    const child = spawn(
      join(root, 'node_modules/.bin/tsx'),
      [join(root, 'packages/client/src/cli/watch.ts'), '--', '--url', server.url],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
    let out = '';
    const seen = (pattern: RegExp) =>
      new Promise<void>((resolveSeen, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern} in:\n${out}`)), 20_000);
        const check = () => {
          if (!pattern.test(out)) return;
          clearTimeout(timer);
          child.stdout.off('data', check);
          resolveSeen();
        };
        child.stdout.on('data', check);
        check();
      });
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });

    await seen(/-- WhatsApp: ready/);
    await seen(/live from here/);
    const [chat] = await server.session.listChats();
    await server.session.sendPoll({
      chatId: chat!.id,
      question: 'Tea or coffee?',
      options: ['Tea', 'Coffee'],
      selectableCount: 1,
    });
    await seen(/\[new poll\] Tea or coffee\?/);
    await seen(/\[votes\] Tea or coffee\? \(.+\): .+\n\s+Tea\s+\d+.*\n\s+Coffee\s+\d+/);

    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
