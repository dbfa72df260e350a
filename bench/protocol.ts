import type { BurstKeys, BurstResult, PreparedVotes } from '@pollmasters/worker/sandbox/remote';

/** Every bench poll's options, and the voters of every poll (baselines included). */
export const OPTIONS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'];
export const VOTERS = 1_000;

/** A poll's counts as some reader saw them: option name -> voters, and distinct voters. */
export interface Tally {
  voters: number;
  counts: Record<string, number>;
}

/**
 * What the bench asks of its server process (bench/server.ts), over IPC ('advanced'
 * serialization: typed arrays cross as they are).
 */
export type ToServer = { id: number } & (
  | { type: 'createPolls'; count: number; prefix: string; options: string[] }
  | { type: 'burstKeys'; pollIds: string[] }
  | { type: 'burst'; votes: PreparedVotes[]; ratePerSec?: number; batchSize: number }
  | { type: 'usage' }
  | { type: 'stop' }
);

/** What the server process answers; `ready` comes once, unasked. */
export type FromServer =
  | { type: 'ready'; url: string }
  | { type: 'polls'; id: number; polls: { id: string; chatId: string }[] }
  | { type: 'burstKeys'; id: number; keys: BurstKeys[] }
  | { type: 'burst'; id: number; result: BurstResult }
  | {
      type: 'usage';
      id: number;
      peakRssBytes: number;
      rssBytes: number;
      heapUsedBytes: number;
      /** The main (API) thread's V8 heap as reserved, and memory outside it (Buffers). */
      heapTotalBytes: number;
      externalBytes: number;
      /** process.cpuUsage() of the server process (all its threads), microseconds. */
      cpuUs: number;
      /** Time the worker thread's event loop was busy since it started, ms. */
      workerActiveMs: number;
      /** CPU time of the worker thread and of the main (API) thread so far, µs; null: unknown. */
      workerCpuUs: number | null;
      apiCpuUs: number | null;
      /** CPU time of every thread of the server process so far, µs: [task id, µs]. */
      threadsCpuUs: [number, number][];
    }
  | { type: 'stopped'; id: number }
  | { type: 'error'; id: number; message: string };

/** What a bench client watches for: poll id -> votes cast on it in the phase (one per voter). */
export interface WatchPhase {
  votes: [string, number][];
  /** Keep each voter's time (bench/clientWatchers.ts), for the Socket.IO latency. */
  matchVoters: boolean;
}

/** What one bench client saw of a phase (bench/clientWatchers.ts). */
export interface ClientReport {
  /** tRPC: each change's latency, ms. */
  latency: number[];
  /** With `matchVoters`: poll/voter -> its injection (tRPC) or first sighting (Socket.IO). */
  voters: [string, number][];
  /** Per poll: the counts and voter count it saw last. */
  final: [string, Tally][];
  /** When it had every vote of the phase (wall clock). */
  lastAt: number;
  /** Vote changes (tRPC) or full states (Socket.IO) received. */
  count: number;
  /** The client process's event-loop delay during the phase, p99 and max, ms. */
  loopDelayMs: [number, number];
}

/** What the bench asks of a client process (bench/clientProcess.ts). */
export type ToClient = { id: number } & (
  | { type: 'watch'; phase: WatchPhase }
  | { type: 'progress' }
  | { type: 'done'; timeoutMs: number }
  | { type: 'usage' }
  | { type: 'stop' }
);

/** What a client process answers; `ready` comes once, unasked, when it is live. */
export type FromClient =
  | { type: 'ready'; url: string }
  | { type: 'watching'; id: number }
  | { type: 'progress'; id: number; count: number }
  | { type: 'report'; id: number; report: ClientReport }
  | { type: 'usage'; id: number; cpuUs: number }
  | { type: 'stopped'; id: number }
  | { type: 'error'; id: number; message: string };
