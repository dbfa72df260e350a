import type { Worker } from 'node:worker_threads';
import {
  Backoff,
  ChannelClient,
  type CommandOf,
  type CommandResult,
  type CommandType,
  errors,
  type Logger,
  spawnWorker,
} from '@pollmasters/shared';
import { type WorkerConfig, workerEntry } from '@pollmasters/worker';

export type WorkerState = 'starting' | 'running' | 'restarting' | 'stopped';

export interface WorkerSupervisorOptions {
  worker: WorkerConfig;
  logger: Logger;
  /** First restart delay; doubles per consecutive failure up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** A worker that ran this long resets the backoff. */
  stableAfterMs?: number;
  /** Timeout for ordinary calls (send, chats, ...). */
  callTimeoutMs?: number;
}

/** An unexpected exit of the worker, and when it is started again. */
export interface WorkerExit {
  code: number;
  /** Restarts so far, this one included. */
  restarts: number;
  delayMs: number;
}

/** What the supervisor tells the session of each worker it runs. */
export interface WorkerHooks {
  /** A new worker's channel, before it is ready: the place to listen to its events. */
  attach(channel: ChannelClient): void;
  /** The new worker is ready; it runs once this resolves (a rejection fails the start). */
  ready(channel: ChannelClient): Promise<void>;
  /** The worker exited unexpectedly and will be started again after `delayMs`. */
  exited(exit: WorkerExit): void;
}

/**
 * Runs the session's worker thread: starts it and waits for it to be ready, restarts it with
 * backoff after a crash, forwards calls to it, and stops it in order.
 */
export class WorkerSupervisor {
  private readonly options: Required<Omit<WorkerSupervisorOptions, 'worker' | 'logger'>>;
  private readonly workerConfig: WorkerConfig;
  private readonly logger: Logger;
  private worker: Worker | null = null;
  private channel: ChannelClient | null = null;
  private current: WorkerState = 'stopped';
  private restartCount = 0;
  private readonly backoff: Backoff;
  private restartTimer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private stopping: Promise<void> | null = null;

  constructor(
    options: WorkerSupervisorOptions,
    private readonly hooks: WorkerHooks,
  ) {
    this.workerConfig = options.worker;
    this.logger = options.logger;
    this.options = {
      backoffMs: options.backoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      stableAfterMs: options.stableAfterMs ?? 30_000,
      callTimeoutMs: options.callTimeoutMs ?? 60_000,
    };
    this.backoff = new Backoff(this.options.backoffMs, this.options.maxBackoffMs);
  }

  get state(): WorkerState {
    return this.current;
  }

  /** How often the worker was restarted after an unexpected exit. */
  get restarts(): number {
    return this.restartCount;
  }

  /** Starts the worker and resolves once it is ready and the session has loaded it. */
  async start(): Promise<void> {
    if (this.current !== 'stopped' || this.stopping) {
      throw errors.conflict('session already started');
    }
    await this.spawn();
  }

  async call<T extends CommandType>(command: CommandOf<T>): Promise<CommandResult<T>> {
    const channel = this.channel;
    if (!channel?.ready || this.current !== 'running') {
      throw errors.workerGone(
        this.current === 'stopped'
          ? 'the session is stopped'
          : 'the WhatsApp worker is restarting; try again in a moment',
      );
    }
    return channel.call(command, { timeoutMs: this.options.callTimeoutMs });
  }

  /**
   * How long the current worker thread's event loop has been busy (decrypting, storing,
   * talking to WhatsApp) since it started, in ms; 0 without a worker.
   */
  busyMs(): number {
    return this.worker?.performance.eventLoopUtilization().active ?? 0;
  }

  /** Ends the worker thread abruptly, as a crash would: it is restarted. */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  /**
   * Asks the worker to flush and close, then ends it: all within `timeoutMs`, past which the
   * thread is terminated. Idempotent.
   */
  stop(timeoutMs: number): Promise<void> {
    this.stopping ??= this.shutdown(timeoutMs);
    return this.stopping;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const worker = this.worker;
    const channel = this.channel;
    this.current = 'stopped';
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // The last part of the time is for the thread to exit by itself once it has closed.
    const exitWaitMs = Math.min(1_000, timeoutMs / 4);
    try {
      if (channel?.ready) {
        await channel.call(
          { type: 'shutdown' },
          { timeoutMs: Math.max(1, timeoutMs - exitWaitMs) },
        );
      }
    } catch (err) {
      this.logger.warn({ err }, 'worker did not shut down cleanly; terminating it');
    }
    channel?.close(errors.workerGone('the server is shutting down'));
    const left = Math.max(0, deadline - Date.now());
    await Promise.race([exited, new Promise((r) => setTimeout(r, left).unref())]);
    await worker.terminate();
    this.worker = null;
    this.channel = null;
  }

  private async spawn(): Promise<void> {
    this.current = this.restartCount > 0 ? 'restarting' : 'starting';
    const worker = spawnWorker(workerEntry, { workerData: this.workerConfig });
    const channel = new ChannelClient(worker, {
      sessionId: this.workerConfig.sessionId,
      logger: this.logger,
      timeoutMs: this.options.callTimeoutMs,
    });
    this.worker = worker;
    this.channel = channel;
    this.hooks.attach(channel);

    const failed = new Promise<never>((_, reject) => {
      worker.once('error', (err) => reject(err));
      worker.once('exit', (code) => reject(new Error(`worker exited with code ${code}`)));
    });
    worker.on('error', (err) => this.logger.error({ err }, 'worker thread error'));
    worker.once('exit', (code) => this.onExit(worker, code));

    try {
      await Promise.race([channel.whenReady(), failed]);
      await Promise.race([this.hooks.ready(channel), failed]);
      this.current = 'running';
      this.startedAt = Date.now();
    } catch (err) {
      failed.catch(() => {});
      if (this.restartCount === 0) {
        // The first start reports its failure to the caller and is not retried.
        this.current = 'stopped';
        if (this.restartTimer) clearTimeout(this.restartTimer);
        channel.close(errors.workerGone('the WhatsApp worker failed to start'));
        await worker.terminate();
        this.worker = null;
        this.channel = null;
        throw err;
      }
      // A restart that fails: its exit schedules the next try with a longer backoff.
      this.logger.error({ err }, 'worker failed to start');
      void worker.terminate();
    }
  }

  private onExit(worker: Worker, code: number): void {
    if (this.worker !== worker) return;
    this.channel?.close(errors.workerGone(`the WhatsApp worker exited (code ${code})`));
    this.worker = null;
    this.channel = null;
    if (this.current === 'stopped') return;
    const ranFor = this.startedAt ? Date.now() - this.startedAt : 0;
    this.startedAt = 0;
    // A worker that ran long enough starts the backoff over; one that keeps failing waits longer.
    if (ranFor >= this.options.stableAfterMs) this.backoff.reset();
    this.restartCount += 1;
    const delayMs = this.backoff.next();
    this.logger.warn({ code, restarts: this.restartCount, delayMs }, 'worker exited; restarting');
    this.current = 'restarting';
    this.hooks.exited({ code, restarts: this.restartCount, delayMs });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.current === 'stopped') return;
      this.spawn().catch((err) => this.logger.error({ err }, 'worker restart failed'));
    }, delayMs);
  }
}
