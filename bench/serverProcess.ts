import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildPackages, transpile } from '../scripts/build.js';
import { DIST_CONDITION, HEAP_FLAGS, SERVER_ENV } from '../scripts/launcher.js';
import type { FromServer, ToServer } from './protocol.js';

/**
 * How the server process runs: from the build (`pnpm build`: JavaScript, as `pnpm start` runs
 * it), or with BENCH_FROM_SOURCE=1 from TypeScript through tsx, as the tests run it.
 */
export const FROM_SOURCE = process.env.BENCH_FROM_SOURCE === '1';
let serverCommand: string[] = [];
export const prepareServer = async () => {
  // BENCH_NODE_FLAGS come after the server's own flags, so they override them.
  const flags = [
    ...HEAP_FLAGS,
    ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
  ];
  if (FROM_SOURCE) {
    serverCommand = [...flags, '--import', 'tsx', join(import.meta.dirname, 'server.ts')];
    return;
  }
  await buildPackages();
  const out = join(import.meta.dirname, 'dist');
  await transpile([join(import.meta.dirname, 'server.ts')], import.meta.dirname, out);
  serverCommand = [...flags, DIST_CONDITION, join(out, 'server.js')];
};

/** The server under test in its own process; requests and answers over IPC. */
export class ServerProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, (m: FromServer) => void>();
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly startupMs: number,
  ) {
    child.on('message', (m: FromServer) => {
      if ('id' in m) this.waiting.get(m.id)?.(m);
    });
  }

  static start(dataDir: string, channel: string): Promise<ServerProcess> {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [
        // BENCH_CPU_PROF=<dir>: a V8 CPU profile per thread of the server (main and worker).
        ...(process.env.BENCH_CPU_PROF
          ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
          : []),
        ...serverCommand,
        dataDir,
        channel,
      ],
      {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        serialization: 'advanced',
        // The server's environment, as bin/pollmasters sets it; the bench's own overrides it.
        env: { ...SERVER_ENV, ...process.env },
      },
    );
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`server exited early (${code})`)));
      child.once('message', (m: FromServer) => {
        if (m.type !== 'ready') return reject(new Error(`unexpected ${m.type}`));
        child.removeAllListeners('exit');
        resolve(new ServerProcess(child, m.url, performance.now() - started));
      });
    });
  }

  request<T extends FromServer['type']>(
    message: ToServer extends infer M ? (M extends ToServer ? Omit<M, 'id'> : never) : never,
    expect: T,
    timeoutMs = 150_000,
  ): Promise<Extract<FromServer, { type: T }>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${message.type}: no answer`)), timeoutMs);
      this.waiting.set(id, (m) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if (m.type === 'error') reject(new Error(`${message.type}: ${m.message}`));
        else if (m.type !== expect) reject(new Error(`${message.type}: got ${m.type}`));
        else resolve(m as Extract<FromServer, { type: T }>);
      });
      this.child.send({ ...message, id });
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    await this.request({ type: 'stop' }, 'stopped', 20_000).catch(() => this.child.kill());
    await exited;
  }
}
