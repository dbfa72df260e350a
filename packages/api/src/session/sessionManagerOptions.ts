import type { SessionRecord } from '@pollmasters/shared';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { SessionRegistry } from './registry.js';
import type { SessionService } from './sessionService.js';
import type { WorkerPool } from './workerPool.js';

// What a SessionManager is given and what it tells (./sessionManager.ts).

export interface SessionManagerEvents {
  /** A session was created (not started yet). */
  created: [SessionService];
  /** A session was deleted. */
  deleted: [string];
}

export interface SessionManagerOptions {
  config: Config;
  /** The resolved data dir. */
  dataDir: string;
  registry: SessionRegistry;
  pool: WorkerPool;
  logger: Logger;
}

/** In a cluster: how the manager reaches the lease loop (../cluster/clusterSessions.ts). */
export interface ClusterHooks {
  /** The sessions changed here (created, started, stopped, deleted, new key): every node decides again. */
  changed(): void;
  /** Resolves once a node runs the session (or, with `false`, none does), or after a while. */
  settled(id: string, running: boolean): Promise<void>;
}

/** A session and what the registry keeps of it. */
export interface ManagedSession {
  record: SessionRecord;
  service: SessionService;
}
