import type { Worker } from 'node:worker_threads';
import { Backoff, errors, type Logger } from '@pollmasters/shared';
import { ChannelClient, spawnWorker, WORKER_CHANNEL } from '@pollmasters/shared/node';
import { type WorkerConfig, workerEntry } from '@pollmasters/worker';

export const workerStates = ['starting', 'running', 'restarting', 'stopped'] as const;
export type WorkerState = (typeof workerStates)[number];

export interface PoolWorkerOptions {
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

/** An unexpected exit of a worker, and when it is started again. */
export interface WorkerExit {
  code: number;
  /** Restarts of this worker so far, this one included. */
  restarts: number;
  delayMs: number;
}

/** A session hosted on a worker, as the worker sees it. */
export interface WorkerTenant {
  readonly sessionId: string;
  /** The worker thread is up: open the session on it (resolves once it is loaded). */
  attach(thread: Worker): Promise<void>;
  /** The worker thread exited unexpectedly; it is started again after `exit.delayMs`. */
  detached(exit: WorkerExit): void;
}

/**
 * One worker thread of the pool and the sessions it hosts: starts the thread, restarts it with
 * backoff after a crash and opens its sessions on it again (theirs only: the other workers'
 * sessions never notice), and stops it in order.
 */
export class PoolWorker {
  readonly options: Required<Omit<PoolWorkerOptions, 'worker' | 'logger'>>;
  private readonly workerConfig: WorkerConfig;
  private readonly logger: Logger;
  private readonly tenants = new Map<string, WorkerTenant>();
  private thread: Worker | null = null;
  private control: ChannelClient | null = null;
  private current: WorkerState = 'stopped';
  private restartCount = 0;
  private readonly backoff: Backoff;
  private restartTimer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private starting: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;

  constructor(options: PoolWorkerOptions) {
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

  /** How often the thread was restarted after an unexpected exit. */
  get restarts(): number {
    return this.restartCount;
  }

  /** How many sessions it hosts: the pool places a new one on the least loaded worker. */
  get load(): number {
    return this.tenants.size;
  }

  /**
   * Hosts a session: starts the thread if it is not running, then opens the session on it.
   * A failure to open is the caller's (the session is not kept).
   */
  async host(tenant: WorkerTenant): Promise<void> {
    if (this.stopping) throw errors.workerGone('the server is shutting down');
    this.tenants.set(tenant.sessionId, tenant);
    try {
      if (this.current === 'stopped') {
        this.starting ??= this.spawn().finally(() => {
          this.starting = null;
        });
      }
      if (this.starting) await this.starting;
      if (this.thread && this.current === 'running') await tenant.attach(this.thread);
    } catch (err) {
      this.tenants.delete(tenant.sessionId);
      throw err;
    }
  }

  /** Forgets a session (after it closed itself on the thread). */
  release(tenant: WorkerTenant): void {
    if (this.tenants.get(tenant.sessionId) === tenant) this.tenants.delete(tenant.sessionId);
  }

  /**
   * How long the thread's event loop has been busy (decrypting, storing, talking to WhatsApp)
   * since it started, in ms; 0 without a thread.
   */
  busyMs(): number {
    return this.thread?.performance.eventLoopUtilization().active ?? 0;
  }

  /** The thread's CPU time so far in microseconds, as it answers a ping; null if unknown. */
  async cpuUs(timeoutMs = 2_000): Promise<number | null> {
    const control = this.control;
    if (this.current !== 'running' || !control?.ready) return null;
    return (await control.call({ type: 'ping' }, { timeoutMs })).cpuUs;
  }

  /** Whether the thread answers within `timeoutMs`: its event loop is not stuck. */
  async answers(timeoutMs: number): Promise<boolean> {
    const control = this.control;
    if (this.current !== 'running' || !control?.ready) return false;
    try {
      await control.call({ type: 'ping' }, { timeoutMs });
      return true;
    } catch {
      return false;
    }
  }

  /** Ends the thread abruptly, as a crash would: it is restarted with its sessions. */
  async kill(): Promise<void> {
    await this.thread?.terminate();
  }

  /** Asks the thread to close every session it hosts, then ends it. Idempotent. */
  stop(timeoutMs: number): Promise<void> {
    this.stopping ??= this.shutdown(timeoutMs);
    return this.stopping;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    await this.starting?.catch(() => {});
    const thread = this.thread;
    const control = this.control;
    this.current = 'stopped';
    if (!thread) return;
    const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
    // The last part of the time is for the thread to exit by itself once it has closed.
    const exitWaitMs = Math.min(1_000, timeoutMs / 4);
    try {
      if (control?.ready) {
        await control.call(
          { type: 'shutdown' },
          { timeoutMs: Math.max(1, deadline - Date.now() - exitWaitMs) },
        );
      }
    } catch (err) {
      this.logger.warn({ err }, 'worker did not shut down cleanly; terminating it');
    }
    control?.close(errors.workerGone('the server is shutting down'));
    const left = Math.max(0, deadline - Date.now());
    await Promise.race([exited, new Promise((r) => setTimeout(r, left).unref())]);
    await thread.terminate();
    this.thread = null;
    this.control = null;
  }

  private async spawn(): Promise<void> {
    this.current = this.restartCount > 0 ? 'restarting' : 'starting';
    const thread = spawnWorker(workerEntry, { workerData: this.workerConfig });
    // More sessions than the default 10 listeners each listen to the one thread.
    thread.setMaxListeners(0);
    const control = new ChannelClient(thread, {
      sessionId: WORKER_CHANNEL,
      logger: this.logger,
      timeoutMs: this.options.callTimeoutMs,
    });
    this.thread = thread;
    this.control = control;
    const failed = new Promise<never>((_, reject) => {
      thread.once('error', (err) => reject(err));
      thread.once('exit', (code) => reject(new Error(`worker exited with code ${code}`)));
    });
    failed.catch(() => {});
    thread.on('error', (err) => this.logger.error({ err }, 'worker thread error'));
    thread.once('exit', (code) => this.onExit(thread, code));

    try {
      await Promise.race([control.whenReady(), failed]);
    } catch (err) {
      if (this.restartCount === 0) {
        // The first start reports its failure to the caller and is not retried.
        this.current = 'stopped';
        control.close(errors.workerGone('the WhatsApp worker failed to start'));
        this.thread = null;
        this.control = null;
        await thread.terminate();
        throw err;
      }
      // A restart that fails: its exit schedules the next try with a longer backoff.
      this.logger.error({ err }, 'worker failed to start');
      void thread.terminate();
      return;
    }
    this.current = 'running';
    this.startedAt = Date.now();
  }

  /** After a restart: each session opens again; one that fails is logged, the others run. */
  private async reattach(thread: Worker): Promise<void> {
    await Promise.all(
      [...this.tenants.values()].map((tenant) =>
        tenant.attach(thread).catch((err: unknown) => {
          this.logger.error({ err, sessionId: tenant.sessionId }, 'session failed to reopen');
        }),
      ),
    );
  }

  private onExit(thread: Worker, code: number): void {
    if (this.thread !== thread) return;
    this.control?.close(errors.workerGone(`the WhatsApp worker exited (code ${code})`));
    this.thread = null;
    this.control = null;
    if (this.current === 'stopped' || this.stopping) return;
    const ranFor = this.startedAt ? Date.now() - this.startedAt : 0;
    this.startedAt = 0;
    // A worker that ran long enough starts the backoff over; one that keeps failing waits longer.
    if (ranFor >= this.options.stableAfterMs) this.backoff.reset();
    this.restartCount += 1;
    const delayMs = this.backoff.next();
    const exit = { code, restarts: this.restartCount, delayMs };
    this.logger.warn({ ...exit, sessions: this.tenants.size }, 'worker exited; restarting');
    this.current = 'restarting';
    for (const tenant of this.tenants.values()) tenant.detached(exit);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.current === 'stopped' || this.stopping) return;
      this.spawn()
        .then(() => {
          if (this.thread === null || this.current !== 'running') return;
          return this.reattach(this.thread);
        })
        .catch((err) => this.logger.error({ err }, 'worker restart failed'));
    }, delayMs);
  }
}
