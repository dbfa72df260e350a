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
/** The scripts that run as a server process: one server, or one node of a cluster. */
const SCRIPTS = ['server', 'clusterServer'] as const;
export type ServerScript = (typeof SCRIPTS)[number];
/** Transpiled file by file (not bundled): the scripts, and the bench modules they import. */
const SERVER_MODULES = [...SCRIPTS, 'benchConfig', 'sendPolls', 'sharedVotes', 'waitFor'];
let serverCommand: (script: ServerScript) => string[] = () => {
  throw new Error('prepareServer() first');
};
export const prepareServer = async () => {
  // BENCH_NODE_FLAGS come after the server's own flags, so they override them.
  const flags = [
    ...HEAP_FLAGS,
    ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
  ];
  if (FROM_SOURCE) {
    serverCommand = (script) => [
      ...flags,
      '--import',
      'tsx',
      join(import.meta.dirname, `${script}.ts`),
    ];
    return;
  }
  await buildPackages();
  const out = join(import.meta.dirname, 'dist');
  await transpile(
    SERVER_MODULES.map((s) => join(import.meta.dirname, `${s}.ts`)),
    import.meta.dirname,
    out,
  );
  serverCommand = (script) => [...flags, DIST_CONDITION, join(out, `${script}.js`)];
};

/** What a server process answers: `ready` once, unasked; `error` to any request. */
type Answer = { type: 'ready'; url: string } | { type: 'error'; id: number; message: string };

/** Where and how to start a server process (./server.ts unless `script` says otherwise). */
export interface StartOptions {
  script?: ServerScript;
  /** Arguments after the data dir and channel. */
  args?: string[];
  /** Environment over the bench's own. */
  env?: Record<string, string>;
}

/**
 * The server under test in its own process; requests (`To`) and answers (`From`) over IPC.
 * By default ./server.ts and its protocol (./protocol.ts).
 */
export class ServerProcess<
  To extends { id: number; type: string } = ToServer,
  From extends { type: string } = FromServer,
> {
  private nextId = 1;
  private readonly waiting = new Map<number, (m: From | Answer) => void>();
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly startupMs: number,
  ) {
    child.on('message', (m: From | Answer) => {
      if ('id' in m && typeof m.id === 'number') this.waiting.get(m.id)?.(m);
    });
  }

  static start<
    To extends { id: number; type: string } = ToServer,
    From extends { type: string } = FromServer,
  >(
    dataDir: string,
    channel: string,
    options: StartOptions = {},
  ): Promise<ServerProcess<To, From>> {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [
        // BENCH_CPU_PROF=<dir>: a V8 CPU profile per thread of the server (main and worker).
        ...(process.env.BENCH_CPU_PROF
          ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
          : []),
        ...serverCommand(options.script ?? 'server'),
        dataDir,
        channel,
        ...(options.args ?? []),
      ],
      {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        serialization: 'advanced',
        // The server's environment, as bin/pollmasters sets it; the bench's own overrides it.
        env: { ...SERVER_ENV, ...process.env, ...options.env },
      },
    );
    return ServerProcess.attach<To, From>(child, started);
  }

  /**
   * Any bench child that says `ready` once and then answers requests by id (a server, or a
   * client: bench/clients.ts), spawned at `started` with an IPC channel.
   */
  static attach<
    To extends { id: number; type: string } = ToServer,
    From extends { type: string } = FromServer,
  >(child: ChildProcess, started = performance.now()): Promise<ServerProcess<To, From>> {
    return new Promise((resolve, reject) => {
      child.once('exit', (code) =>
        reject(
          new Error(`bench child exited early (${code}): ${child.spawnargs.slice(-3).join(' ')}`),
        ),
      );
      child.once('message', (m: From | Answer) => {
        if (m.type !== 'ready') return reject(new Error(`unexpected ${m.type}`));
        child.removeAllListeners('exit');
        const { url } = m as Extract<Answer, { type: 'ready' }>;
        resolve(new ServerProcess<To, From>(child, url, performance.now() - started));
      });
    });
  }

  request<T extends From['type']>(
    message: To extends infer M ? (M extends To ? Omit<M, 'id'> : never) : never,
    expect: T,
    timeoutMs = 150_000,
  ): Promise<Extract<From, { type: T }>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${message.type}: no answer`)), timeoutMs);
      this.waiting.set(id, (m) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if (m.type === 'error')
          reject(new Error(`${message.type}: ${(m as Answer & { message: string }).message}`));
        else if (m.type !== expect) reject(new Error(`${message.type}: got ${m.type}`));
        else resolve(m as Extract<From, { type: T }>);
      });
      this.child.send({ ...message, id });
    });
  }

  /** Asks the process to stop (every script answers `stop`); kills it after 20 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    const killer = setTimeout(() => this.child.kill(), 20_000);
    try {
      this.child.send({ type: 'stop', id: this.nextId++ });
    } catch {
      this.child.kill();
    }
    await exited;
    clearTimeout(killer);
  }
}
