import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LAUNCHER } from '../../scripts/launcher.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildServer {
  proc: ChildProcess;
  /** `http://127.0.0.1:<port>` as the server printed it. */
  url: string;
  /** Everything the process wrote so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once the process has exited, with how it ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once stderr (the log) holds `text`; rejects when the process exits first. */
  logged(text: string): Promise<void>;
}

export interface SpawnOptions {
  /** Runs instead of the launcher, e.g. `['pnpm', 'start', '--']`; the arguments follow. */
  command?: readonly string[];
  /** In a process group of its own, as a process manager starts a service. */
  detached?: boolean;
  timeoutMs?: number;
}

/**
 * The real server as its own process, started as `pnpm start` starts it: by bin/pollmasters,
 * which becomes node running the build (built by ../globalSetup.ts, so it does not build
 * again); resolves once it printed the URL it listens on.
 */
export const spawnServer = (
  args: string[],
  env: Record<string, string> = {},
  { command = [LAUNCHER], detached = false, timeoutMs = 20_000 }: SpawnOptions = {},
): Promise<ChildServer> =>
  new Promise((resolve, reject) => {
    const [file, ...before] = command as [string, ...string[]];
    const proc = spawn(file, [...before, '--port', '0', ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached,
    });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      proc.once('exit', (code, signal) => r({ code, signal })),
    );
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the server did not start within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    const server: ChildServer = {
      proc,
      url: '',
      get stdout() {
        return stdout;
      },
      get stderr() {
        return stderr;
      },
      exited,
      logged: (text) =>
        new Promise((resolveLogged, rejectLogged) => {
          const check = () => {
            if (!stderr.includes(text)) return;
            proc.stderr?.off('data', check);
            resolveLogged();
          };
          proc.stderr?.on('data', check);
          void exited.then(() => {
            proc.stderr?.off('data', check);
            rejectLogged(new Error(`exited before logging ${text}:\n${stderr}`));
          });
          check();
        }),
    };
    proc.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const found = /PollMasters listening on (http:\/\/\S+)/.exec(stdout);
      if (found?.[1] && !server.url) {
        clearTimeout(timer);
        server.url = found[1];
        resolve(server);
      }
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!server.url)
        reject(new Error(`the server exited (${code ?? signal}):\n${stdout}\n${stderr}`));
    });
  });
