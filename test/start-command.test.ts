import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPollMastersClient } from '@pollmasters/client';
import { io as connectSocket } from 'socket.io-client';
import { afterEach, expect, it } from 'vitest';
import { DIST_CONDITION, HEAP_FLAGS, LAUNCHER, SERVER_ENV } from '../scripts/launcher.js';
import { root, spawnServer } from './helpers/childServer.js';
import {
  allProcesses,
  commandLine,
  descendants,
  environment,
  listening,
  running,
} from './helpers/processTree.js';
import { statusReady, within } from './helpers/wait.js';

// Issue 16: a process manager (Docker, systemd, pm2) runs the start command in a process group
// of its own and stops it with SIGTERM to the one PID it started. That PID must be the server
// or pass the signal on to it: the whole server then stops within 10 s, exit 0, with no
// process left running and nothing listening. A shell in between (`sh -c`) dies of the signal
// and leaves node running, still listening.

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The README's run command, exactly as a person copies it (its "Run and test" section). */
const readmeRunCommand = (): string => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const line = /^# run the server\b.*\n(.+)$/m.exec(readme)?.[1];
  if (!line) throw new Error('README.md has no "# run the server" line in its run command block');
  return line;
};

/** The steps of the README's run command, as `&&` joins them. */
const readmeRunSteps = (): string[] => readmeRunCommand().split(' && ');

it('the README’s run command installs pnpm and the dependencies, then becomes the server', () => {
  expect(readmeRunSteps()).toEqual([
    'npm i -g pnpm@10.34.9',
    'pnpm install --frozen-lockfile',
    'exec pnpm start',
  ]);
});

it.each([
  // pnpm passes the `--` on; the server's command line ignores it.
  { name: 'pnpm start', command: ['pnpm', 'start', '--'], passedOn: ['--'] },
  { name: 'bin/pollmasters, the package’s bin', command: [LAUNCHER], passedOn: [] },
  // The README's line through a shell, as `CMD <line>` or a unit's `sh -c` runs it, the
  // options a person would add after it. Its install steps (checked as text above) would
  // change the global npm and this checkout's node_modules under the other test files, so an
  // external command stands in for them: the shell still runs a child first and must `exec`
  // the last step to become it (a builtin such as `true` could let it skip the fork).
  {
    name: 'the README’s run command, through sh -c',
    command: ['sh', '-c', `/bin/true && ${readmeRunSteps().at(-1)} "$@"`, 'sh', '--'],
    passedOn: ['--'],
  },
])(
  '$name: SIGTERM to its PID stops the whole server with clients connected: exit 0, nothing left',
  { timeout: 90_000 },
  async ({ command, passedOn }) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pollmasters-start-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const args = ['--sandbox', '--data-dir', dataDir];
    const server = await spawnServer(
      args,
      { LOG_LEVEL: 'info' },
      { command, detached: true, timeoutMs: 60_000 },
    );
    const pid = server.proc.pid!;
    cleanups.push(() => {
      // Whatever is left of the process group, should the test fail.
      if (allProcesses().some((p) => p.pgid === pid)) process.kill(-pid, 'SIGKILL');
    });
    const port = Number(new URL(server.url).port);

    // The server is the started process itself or its only child: no shell in between.
    const tree = descendants(pid);
    const serverPid = tree.length === 0 ? pid : tree[0]!.pid;
    expect(tree.length).toBeLessThanOrEqual(1);
    // Run as the launcher says, with what the bench (scripts/launcher.ts) runs its server with.
    expect(commandLine(serverPid)).toEqual([
      'node',
      DIST_CONDITION,
      ...HEAP_FLAGS,
      join(root, 'packages/api/dist/main.js'),
      ...passedOn,
      '--port',
      '0',
      ...args,
    ]);
    expect(environment(serverPid)).toMatchObject(SERVER_ENV);

    await statusReady(server.url);
    // Clients of each kind: Socket.IO, a tRPC subscription over a WebSocket and one over HTTP.
    const socket = connectSocket(server.url, { transports: ['websocket'], reconnection: false });
    cleanups.push(() => socket.close());
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const client = createPollMastersClient({ url: server.url });
    cleanups.push(() => client.close());
    const sub = await new Promise<{ unsubscribe(): void }>((resolve) => {
      const s = client.session.events.subscribe(
        {},
        { onData: () => resolve(s), onError: () => {} },
      );
    });
    cleanups.push(() => sub.unsubscribe());
    const input = encodeURIComponent(JSON.stringify({ json: {} }));
    const stream = await fetch(`${server.url}/trpc/session.events?input=${input}`, {
      headers: { accept: 'text/event-stream' },
    });
    const reader = stream.body!.getReader();
    cleanups.push(() => reader.cancel().catch(() => {}));
    await reader.read();
    expect(await listening(port)).toBe(true);

    process.kill(pid, 'SIGTERM');
    const { code, signal } = await within(server.exited, 10_000, 'the stop');
    expect({ code, signal }, server.stderr).toEqual({ code: 0, signal: null });
    expect(server.stderr).toContain('"msg":"stopped"');
    expect(running(serverPid)).toBe(false);
    expect(allProcesses().filter((p) => p.pgid === pid && p.state !== 'Z')).toEqual([]);
    expect(await listening(port)).toBe(false);
  },
);
