import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import {
  Backoff,
  ChannelClient,
  type Chat,
  type CommandOf,
  type CommandResult,
  type CommandType,
  errors,
  type Logger,
  type Poll,
  type SendPollInput,
  type SessionState,
  spawnWorker,
  type VoteRejection,
} from '@pollmasters/shared';
import { type WorkerConfig, workerEntry } from '@pollmasters/worker';
import { PollReadModel, type PollUpdate, pollUpdateOf } from './readModel.js';

export type { PollUpdate } from './readModel.js';

/** Events of a session, for the API's edges (compat, tRPC, metrics). */
export interface SessionEvents {
  /** Status, QR or user changed. */
  state: [SessionState];
  /** A poll was sent and stored. */
  pollSent: [Poll];
  /**
   * Polls changed together (one stored batch of votes, or a resync), one update per poll: the
   * vote changes behind it (empty on a resync) and its counts after them; its full state is
   * built only when a listener reads `poll` (./readModel.ts).
   */
  pollsUpdated: [readonly PollUpdate[]];
  /** A vote could not be used. */
  voteRejected: [VoteRejection];
  /** A poll could not be sent (for the metrics; the caller gets the error). */
  sendFailed: [{ chatId: string; error: unknown }];
  /** The worker thread exited unexpectedly and will be restarted. */
  workerExit: [{ code: number; restarts: number; delayMs: number }];
}

/**
 * Some members of a session with its typed events: what an edge needs of it, so that its
 * tests can hand it a small double.
 */
export type SessionView<K extends keyof SessionService> = Pick<SessionService, K> &
  Pick<EventEmitter<SessionEvents>, 'on' | 'off'>;

export type WorkerState = 'starting' | 'running' | 'restarting' | 'stopped';

export interface SessionServiceOptions {
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

/**
 * One WhatsApp session as the API sees it: supervises the worker thread (start, wait for
 * `ready`, restart with backoff after a crash), keeps the read model of polls from the
 * worker's snapshot and events, and forwards commands.
 */
export class SessionService extends EventEmitter<SessionEvents> {
  readonly sessionId: string;
  private readonly options: Required<Omit<SessionServiceOptions, 'worker' | 'logger'>>;
  private readonly workerConfig: WorkerConfig;
  private readonly logger: Logger;
  private readonly polls = new PollReadModel();
  private current: SessionState = { status: 'disconnected', qr: null, user: null };
  private worker: Worker | null = null;
  private channel: ChannelClient | null = null;
  private state: WorkerState = 'stopped';
  private restarts = 0;
  private readonly backoff: Backoff;
  private restartTimer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private stopping: Promise<void> | null = null;

  constructor(options: SessionServiceOptions) {
    super();
    this.workerConfig = options.worker;
    this.sessionId = options.worker.sessionId;
    this.logger = options.logger;
    this.options = {
      backoffMs: options.backoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      stableAfterMs: options.stableAfterMs ?? 30_000,
      callTimeoutMs: options.callTimeoutMs ?? 60_000,
    };
    this.backoff = new Backoff(this.options.backoffMs, this.options.maxBackoffMs);
  }

  get sessionState(): SessionState {
    return this.current;
  }

  get workerState(): WorkerState {
    return this.state;
  }

  /** How often the worker was restarted after an unexpected exit. */
  get workerRestarts(): number {
    return this.restarts;
  }

  /** How many polls the read model holds (cheaper than `listPolls().length`). */
  get pollCount(): number {
    return this.polls.size;
  }

  listPolls(): Poll[] {
    return this.polls.list();
  }

  getPoll(id: string): Poll | undefined {
    return this.polls.get(id);
  }

  /** Starts the worker and resolves once it is ready and the read model is filled. */
  async start(): Promise<void> {
    if (this.state !== 'stopped' || this.stopping) throw errors.conflict('session already started');
    await this.spawn();
  }

  async sendPoll(poll: SendPollInput): Promise<Poll> {
    const result = await this.call({ type: 'sendPoll', poll }).catch((error: unknown) => {
      this.emit('sendFailed', { chatId: poll.chatId, error });
      throw error;
    });
    // The worker's pollSent event may arrive after this reply: the read model has it either way.
    this.addPoll(result.poll);
    return this.polls.get(result.poll.id) ?? result.poll;
  }

  async listChats(): Promise<Chat[]> {
    return (await this.call({ type: 'listChats' })).chats;
  }

  async logout(): Promise<void> {
    await this.call({ type: 'logout' });
  }

  async requestPairingCode(phoneNumber: string): Promise<string> {
    return (await this.call({ type: 'requestPairingCode', phoneNumber })).code;
  }

  /**
   * How long the current worker thread's event loop has been busy (decrypting, storing,
   * talking to WhatsApp) since it started, in ms; 0 without a worker.
   */
  workerBusyMs(): number {
    return this.worker?.performance.eventLoopUtilization().active ?? 0;
  }

  /**
   * Ends the worker thread abruptly, as a crash would: the supervisor restarts it. For fault
   * tests and for an operator whose WhatsApp connection is wedged.
   */
  async killWorker(): Promise<void> {
    await this.worker?.terminate();
  }

  /** Asks the worker to flush and close, then ends it. Idempotent. */
  stop(timeoutMs = 4_000): Promise<void> {
    this.stopping ??= this.shutdown(timeoutMs);
    return this.stopping;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const worker = this.worker;
    const channel = this.channel;
    this.state = 'stopped';
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    try {
      if (channel?.ready) await channel.call({ type: 'shutdown' }, { timeoutMs });
    } catch (err) {
      this.logger.warn({ err }, 'worker did not shut down cleanly; terminating it');
    }
    channel?.close(errors.workerGone('the server is shutting down'));
    await Promise.race([exited, new Promise((r) => setTimeout(r, 1_000).unref())]);
    await worker.terminate();
    this.worker = null;
    this.channel = null;
  }

  private async call<T extends CommandType>(command: CommandOf<T>): Promise<CommandResult<T>> {
    const channel = this.channel;
    if (!channel?.ready || this.state !== 'running') {
      throw errors.workerGone(
        this.state === 'stopped'
          ? 'the session is stopped'
          : 'the WhatsApp worker is restarting; try again in a moment',
      );
    }
    return channel.call(command, { timeoutMs: this.options.callTimeoutMs });
  }

  private async spawn(): Promise<void> {
    this.state = this.restarts > 0 ? 'restarting' : 'starting';
    const worker = spawnWorker(workerEntry, { workerData: this.workerConfig });
    const channel = new ChannelClient(worker, {
      sessionId: this.sessionId,
      logger: this.logger,
      timeoutMs: this.options.callTimeoutMs,
    });
    this.worker = worker;
    this.channel = channel;
    this.wire(channel);

    const failed = new Promise<never>((_, reject) => {
      worker.once('error', (err) => reject(err));
      worker.once('exit', (code) => reject(new Error(`worker exited with code ${code}`)));
    });
    worker.on('error', (err) => this.logger.error({ err }, 'worker thread error'));
    worker.once('exit', (code) => this.onExit(worker, code));

    try {
      await Promise.race([channel.whenReady(), failed]);
      const snapshot = await Promise.race([channel.call({ type: 'snapshot' }), failed]);
      this.setState({ status: snapshot.status, qr: snapshot.qr, user: snapshot.user });
      const changed = this.polls.reset(snapshot.polls).map((poll) => pollUpdateOf(poll));
      if (changed.length > 0) this.emit('pollsUpdated', changed);
      this.state = 'running';
      this.startedAt = Date.now();
      this.logger.info({ polls: this.polls.size, status: snapshot.status }, 'worker ready');
    } catch (err) {
      failed.catch(() => {});
      if (this.restarts === 0) {
        // The first start reports its failure to the caller and is not retried.
        this.state = 'stopped';
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

  private wire(channel: ChannelClient): void {
    channel.on('status', (e) =>
      this.setState({
        ...this.current,
        status: e.status,
        ...(e.status === 'ready' ? { qr: null } : {}),
      }),
    );
    channel.on('qr', (e) => this.setState({ ...this.current, status: 'qr_pending', qr: e.qr }));
    channel.on('user', (e) => this.setState({ ...this.current, user: e.user }));
    channel.on('pollSent', (e) => this.addPoll(e.poll));
    channel.on('votes', (e) => {
      const updates = [...this.polls.apply(e.changes).values()];
      if (updates.length > 0) this.emit('pollsUpdated', updates);
    });
    channel.on('voteRejected', (e) => this.emit('voteRejected', e.rejection));
  }

  private addPoll(poll: Poll): void {
    const known = this.polls.get(poll.id);
    if (known && known.version >= poll.version) return;
    const kept = this.polls.put(poll);
    if (!known) this.emit('pollSent', kept);
    else this.emit('pollsUpdated', [pollUpdateOf(kept)]);
  }

  private setState(next: SessionState): void {
    const prev = this.current;
    if (prev.status === next.status && prev.qr === next.qr && prev.user?.id === next.user?.id) {
      return;
    }
    this.current = next;
    this.emit('state', next);
  }

  private onExit(worker: Worker, code: number): void {
    if (this.worker !== worker) return;
    this.channel?.close(errors.workerGone(`the WhatsApp worker exited (code ${code})`));
    this.worker = null;
    this.channel = null;
    if (this.state === 'stopped') return;
    const ranFor = this.startedAt ? Date.now() - this.startedAt : 0;
    this.startedAt = 0;
    // A worker that ran long enough starts the backoff over; one that keeps failing waits longer.
    if (ranFor >= this.options.stableAfterMs) this.backoff.reset();
    this.restarts += 1;
    const delayMs = this.backoff.next();
    this.logger.warn({ code, restarts: this.restarts, delayMs }, 'worker exited; restarting');
    this.state = 'restarting';
    this.setState({ ...this.current, status: 'disconnected', qr: null });
    this.emit('workerExit', { code, restarts: this.restarts, delayMs });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.state === 'stopped') return;
      this.spawn().catch((err) => this.logger.error({ err }, 'worker restart failed'));
    }, delayMs);
  }
}
