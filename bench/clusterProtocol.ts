import type { BurstKeys, BurstResult, PreparedVotes } from '@pollmasters/worker/sandbox/remote';

/*
 * What `pnpm bench -- cluster` asks of each node it runs (bench/clusterServer.ts) over IPC,
 * and what the node answers. A node hosts several sessions; a session's sandbox network (its
 * WhatsApp) lives in the process of the node that runs it, so injection and poll sends go to
 * that node, while every node is read.
 */

/** How a node is configured: its store, and in a cluster its Redis and node id. */
export interface NodeSettings {
  /** The PostgreSQL store (a fresh database); SQLite under the node's data dir when unset. */
  databaseUrl?: string;
  cluster?: { redisUrl: string; nodeId: string; prefix: string };
}

/**
 * `sessions`: makes sure these sessions exist and should run (a single node starts them, a
 * cluster's lease loop spreads them over its nodes, each reading the registry again);
 * `awaitReady`: resolves once every one of them is `ready` on this node (run here or followed);
 * `owned`: which of them run here (whose sandbox network answers in this process).
 */
export type ToNode = { id: number } & (
  | { type: 'sessions'; ids: string[] }
  | { type: 'awaitReady'; ids: string[]; timeoutMs: number }
  | { type: 'owned'; ids: string[] }
  | {
      type: 'createPolls';
      sessionId: string;
      count: number;
      prefix: string;
      options: string[];
    }
  | { type: 'burstKeys'; sessionId: string; pollIds: string[] }
  | {
      type: 'burst';
      sessionId: string;
      votes: PreparedVotes[];
      batchSize: number;
      ratePerSec?: number;
    }
  | { type: 'usage' }
  | { type: 'stop' }
);

export type FromNode =
  | { type: 'ready'; url: string }
  | { type: 'done'; id: number }
  | { type: 'owned'; id: number; ids: string[] }
  | { type: 'polls'; id: number; polls: { id: string; chatId: string }[] }
  | { type: 'burstKeys'; id: number; keys: BurstKeys[] }
  | { type: 'burst'; id: number; result: BurstResult }
  /** CPU time of the whole process so far (µs), and its peak RSS. */
  | { type: 'usage'; id: number; cpuUs: number; peakRssBytes: number }
  | { type: 'stopped'; id: number }
  | { type: 'error'; id: number; message: string };
