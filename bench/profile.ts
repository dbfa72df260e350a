import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmt } from './table.js';

/*
 * Where a thread spends its time: self time per function from the V8 CPU profiles that
 * `node --cpu-prof` writes (one file per thread: CPU.<date>.<time>.<pid>.<threadId>.<seq>),
 * optionally within a window of the run. Profile timestamps are microseconds of the
 * monotonic clock that `process.hrtime` reads, the same in every process of the machine, so
 * the bench can name the window from its own process.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One thread's profile, summarised. */
export interface ThreadProfile {
  file: string;
  /** Node's thread id: 0 is the main thread, workers count up from 1. */
  threadId: number;
  /** Samples in the window, idle ones included, and the busy ones (not `(idle)`). */
  samples: number;
  busy: number;
  /** Busy samples per function (`name file:line`), most first. */
  self: [where: string, samples: number][];
  /** Whether any sampled function lives in the given source path. */
  runs(path: string): boolean;
}

/** A monotonic time window in microseconds (process.hrtime's clock). */
export interface Window {
  fromUs: number;
  toUs: number;
}

/** Where `printProfiles` leaves the window and process it counted, in the profiles' folder. */
export const WINDOW_FILE = 'window.json';

/** process.hrtime's clock in microseconds: the clock of V8's profiles. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

const shortUrl = (url: string) =>
  url
    .replace(/.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '')
    .replace(/^file:\/\/.*?\/packages\//, 'packages/');

/** Self time per function of one profile, counting only the samples inside `window`. */
export const summarise = (file: string, window?: Window): ThreadProfile => {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  let at = profile.startTime;
  let samples = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    samples += 1;
    const id = profile.samples[i]!;
    hits.set(id, (hits.get(id) ?? 0) + 1);
  }
  const self = new Map<string, number>();
  const urls = new Set<string>();
  let busy = 0;
  for (const [id, n] of hits) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    busy += n;
    urls.add(url);
    const where = `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
    self.set(where, (self.get(where) ?? 0) + n);
  }
  const threadId = Number(/\.(\d+)\.\d+\.cpuprofile$/.exec(file)?.[1] ?? -1);
  return {
    file,
    threadId,
    samples,
    busy,
    self: [...self].sort((a, b) => b[1] - a[1]),
    runs: (path) => [...urls].some((u) => u.includes(path)),
  };
};

/** Every profile in a folder (the newest process's only, with `pid`), summarised. */
export const profilesIn = (dir: string, window?: Window, pid?: number): ThreadProfile[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile') && (pid === undefined || f.includes(`.${pid}.`)))
    .sort()
    .map((f) => summarise(join(dir, f), window));

/** A thread's top functions by self time, as lines of text (share of its busy samples). */
export const topLines = (thread: ThreadProfile, top: number): string[] =>
  thread.self.slice(0, top).map(([where, n]) => {
    const share = thread.busy ? (100 * n) / thread.busy : 0;
    return `${share.toFixed(1).padStart(5)}%  ${where}`;
  });

/**
 * The top functions by self time of the worker and the API thread within the throughput
 * phase (`window`), from the first server process's profiles (`pid`).
 */
export const printProfiles = (dir: string, window: Window, pid: number | undefined, top = 10) => {
  // For `bench/profile-summary.ts`, which then counts the same window of the same process.
  writeFileSync(join(dir, WINDOW_FILE), JSON.stringify({ ...window, pid }));
  const threads = profilesIn(dir, window, pid);
  const worker = threads.find((t) => t.threadId !== 0 && t.runs('votes/voteProcessor'));
  const named: [string, (typeof threads)[number] | undefined][] = [
    ['worker thread', worker],
    ['API (main) thread', threads.find((t) => t.threadId === 0)],
  ];
  console.log(`\nCPU profiles of the throughput phase (${dir}), self time:`);
  for (const [name, thread] of named) {
    if (!thread) {
      console.log(`\n${name}: no profile found`);
      continue;
    }
    console.log(
      `\n${name}: ${fmt(thread.busy)} busy samples of ${fmt(thread.samples)} (1 ms each)`,
    );
    for (const line of topLines(thread, top)) console.log(line);
  }
};
