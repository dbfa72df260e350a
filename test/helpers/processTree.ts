import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';

/** One process as Linux's /proc tells it. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Its process group. */
  pgid: number;
  /** `R`, `S`, ...; `Z` for a zombie (ended, not yet reaped: it runs nothing). */
  state: string;
}

const read = (pid: number, file: string): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
};

/** The process, or undefined once it is gone. */
export const processInfo = (pid: number): ProcessInfo | undefined => {
  const stat = read(pid, 'stat');
  if (!stat) return undefined;
  // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
  const [state = '', ppid = '', pgid = ''] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { pid, ppid: Number(ppid), pgid: Number(pgid), state };
};

/** Every process now running or not yet reaped. */
export const allProcesses = (): ProcessInfo[] =>
  readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => processInfo(Number(name)))
    .filter((p): p is ProcessInfo => p !== undefined);

/** The processes started from `pid`, however deep, found by their parent links. */
export const descendants = (pid: number): ProcessInfo[] => {
  const all = allProcesses();
  const found: ProcessInfo[] = [];
  let parents = new Set([pid]);
  while (parents.size > 0) {
    const children = all.filter((p) => parents.has(p.ppid));
    found.push(...children);
    parents = new Set(children.map((p) => p.pid));
  }
  return found;
};

/** A process that still runs: present and not a zombie. */
export const running = (pid: number): boolean => {
  const info = processInfo(pid);
  return info !== undefined && info.state !== 'Z';
};

/** The arguments a process was started with, `argv[0]` first. */
export const commandLine = (pid: number): string[] =>
  (read(pid, 'cmdline') ?? '').split('\0').slice(0, -1);

/** A process's environment as it was at its start. */
export const environment = (pid: number): Record<string, string> =>
  Object.fromEntries(
    (read(pid, 'environ') ?? '')
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export const listening = (port: number): Promise<boolean> =>
  new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNREFUSED' ? resolve(false) : reject(err),
    );
  });
