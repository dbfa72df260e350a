import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { PoolWorker, type PoolWorkerOptions } from './poolWorker.js';

export interface WorkerPoolOptions extends PoolWorkerOptions {
  logger: Logger;
  /** Worker threads; one per core when unset. */
  size?: number;
}

/**
 * The worker threads that host the sessions. A thread starts when its first session is placed
 * on it; each restarts on its own after a crash, with its sessions only.
 */
export class WorkerPool {
  readonly workers: readonly PoolWorker[];

  constructor(options: WorkerPoolOptions) {
    const size = options.size ?? availableParallelism();
    this.workers = Array.from(
      { length: size },
      (_, i) => new PoolWorker({ ...options, logger: options.logger.child({ worker: i }) }),
    );
  }

  /** The worker a new session goes to: the one hosting the fewest (the first of equals). */
  leastLoaded(): PoolWorker {
    return this.workers.reduce((best, w) => (w.load < best.load ? w : best));
  }

  /** Stops every worker (each closes the sessions it still hosts). */
  async stop(timeoutMs: number): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop(timeoutMs)));
  }
}
