import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sessionStatus } from './helpers/wait.js';

// Issue 6: `pnpm watch` prints polls and live vote counts through the tRPC client.
// Issue 18: `pnpm watch -- --session <id>` watches that session only.

const root = resolve(import.meta.dirname, '..');
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The watcher as its own process, with what it printed so far and a wait for a pattern. */
const watch = (args: string[]) => {
  const child = spawn(
    join(root, 'node_modules/.bin/tsx'),
    [join(root, 'packages/client/src/cli/watch.ts'), '--', ...args],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
  const output = { out: '', err: '' };
  child.stdout.on('data', (chunk: Buffer) => {
    output.out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output.err += chunk.toString();
  });
  const seen = (pattern: RegExp) =>
    new Promise<void>((resolveSeen, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${pattern} in:\n${output.out}`)), 20_000);
      const check = () => {
        if (!pattern.test(output.out)) return;
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolveSeen();
      };
      child.stdout.on('data', check);
      check();
    });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output, seen, exited };
};

describe('the watcher CLI', () => {
  it('prints a new poll and then its votes with counts', async () => {
    const server: TestServer = await startTestServer({
      sandbox: { seed: 3, voteDelayMs: { min: 5, max: 40 } },
    });
    cleanups.push(() => server.destroy());
    const { child, seen, exited } = watch(['--url', server.url]);

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

    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('--session watches that session alone; an unknown one is a clear error', async () => {
    const server: TestServer = await startTestServer({
      sandbox: { seed: 3, voteDelayMs: { min: 5, max: 40 } },
    });
    cleanups.push(() => server.destroy());
    await server.sessions.create({ id: 'shop' });
    const shop = (await server.sessions.start('shop')).service;
    await Promise.all([sessionStatus(server.session, 'ready'), sessionStatus(shop, 'ready')]);
    const { child, output, seen, exited } = watch(['--url', server.url, '--session', 'shop']);

    await seen(/session shop/);
    await seen(/-- WhatsApp: ready/);
    await seen(/live from here/);
    const [other] = await server.session.listChats();
    await server.session.sendPoll({
      chatId: other!.id,
      question: 'Only on default?',
      options: ['Yes', 'No'],
      selectableCount: 1,
    });
    const [chat] = await shop.listChats();
    await shop.sendPoll({
      chatId: chat!.id,
      question: 'Open on Sunday?',
      options: ['Yes', 'No'],
      selectableCount: 1,
    });
    await seen(/\[new poll\] Open on Sunday\?/);
    await seen(/\[votes\] Open on Sunday\?/);
    expect(output.out).not.toContain('Only on default?');
    child.kill('SIGINT');
    expect(await exited).toBe(0);

    const unknown = watch(['--url', server.url, '--session', 'nobody']);
    expect(await unknown.exited).toBe(1);
    expect(unknown.output.err).toMatch(/session nobody/);
    const bad = watch(['--url', server.url, '--session', 'Not an id']);
    expect(await bad.exited).toBe(2);
    expect(bad.output.err).toMatch(/--session: /);
  });
});
