import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The machine's PostgreSQL 15 binaries, as the tests' own servers run them. */
const BIN = '/usr/lib/postgresql/15/bin';

/** A PostgreSQL server of a test's own, on a free loopback port: it may stop and start again. */
export interface OwnPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth). */
  url: string;
  /** Starts it (again), on the same port and data; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it (fast shutdown: its clients are cut off); resolves once it has exited. */
  stop(): Promise<void>;
  /** Stops it and deletes its data. */
  remove(): Promise<void>;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** The uid and gid of the `postgres` user: the server refuses to run as root. */
const postgresUser = () => {
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
};

/** Initialises a cluster in a temp dir (as user postgres) and starts it. */
export const startOwnPostgres = async (): Promise<OwnPostgres> => {
  const user = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), 'pollmasters-own-pg-'));
  chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  execFileSync(`${BIN}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'], {
    ...user,
    stdio: 'ignore',
  });
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let proc: ChildProcess | null = null;
  const ready = async () => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.end();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const own: OwnPostgres = {
    url,
    start: async () => {
      const args = ['-D', data, '-p', String(port), '-k', dir];
      const settings = ['listen_addresses=127.0.0.1', 'fsync=off', 'max_connections=40'];
      proc = spawn(`${BIN}/postgres`, [...args, ...settings.flatMap((s) => ['-c', s])], {
        ...user,
        stdio: 'ignore',
      });
      await ready();
    },
    stop: async () => {
      const running = proc;
      proc = null;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((r) => running.once('exit', r));
      running.kill('SIGINT');
      await exited;
    },
    remove: async () => {
      await own.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await own.start();
  return own;
};
