import type { Logger } from 'pino';
import type { ClusterTimings } from './clusterTimings.js';
import type { LeaseLossReason } from './leaseKeeper.js';
import type { RedisConnection } from './redisConnection.js';

// What a ClusterNode is given and what it tells (./clusterNode.ts).

/** Why a session stops here: handed to another node, lease lost, no longer wanted, shutdown. */
export type LocalStopReason = 'handover' | 'lost' | 'unwanted' | 'shutdown';

export interface ClusterNodeOptions {
  /** Leases, heartbeats and nudges go through it; the caller closes it after `close()`. */
  conn: RedisConnection;
  /** Default: random (`<host>-<8 hex>`). */
  nodeId?: string;
  logger: Logger;
  /** The ids of the sessions that should run, cluster-wide (the registry's). */
  sessions: () => readonly string[] | Promise<readonly string[]>;
  /** Opens the session here with its fencing token; resolves once it runs. */
  startLocal: (sessionId: string, fencingToken: number) => Promise<void>;
  /**
   * Stops the session here; resolves once it writes nothing more. Idempotent: a lost lease calls
   * it at once, maybe while a handover of the same session is stopping it, or when it does not
   * run (its start failed).
   */
  stopLocal: (sessionId: string, reason: LocalStopReason) => Promise<void>;
  timings?: Partial<ClusterTimings>;
}

export interface ClusterNodeEvents {
  /** This node acquired the session's lease and started it. */
  claimed: [sessionId: string, fencingToken: number];
  /** This node stopped the session and released its lease. */
  released: [sessionId: string, reason: LocalStopReason];
  /** The lease was lost (the session was told to stop at once). */
  lost: [sessionId: string, fencingToken: number, reason: LeaseLossReason];
}
