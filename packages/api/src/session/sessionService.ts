import type { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import {
  type Chat,
  type ErrorCode,
  errors,
  type Logger,
  type Poll,
  PollMastersError,
  type SendPollInput,
  type VotePollInput,
  type VotePollResult,
} from '@pollmasters/shared';
import {
  ChannelClient,
  type CommandOf,
  type CommandResult,
  type CommandType,
  SessionOpen,
  type SessionOpenInput,
  type WebhookCommandType,
} from '@pollmasters/shared/node';
import type { PoolWorker, WorkerExit, WorkerState, WorkerTenant } from './poolWorker.js';
import { type SessionEvents, SessionMirror } from './sessionMirror.js';
import { resyncReports, type SessionBackend, type SessionReport } from './sessionReport.js';
import { VotesPerTurn } from './votesPerTurn.js';

export type { WorkerExit, WorkerState } from './poolWorker.js';
export type { PollUpdate } from './readModel.js';
export type { Outbox, SessionEvents } from './sessionMirror.js';
export type { EventPosition, SessionBackend, SessionReport } from './sessionReport.js';

/**
 * Some members of a session with its typed events: what an edge needs of it, so that its
 * tests can hand it a small double.
 */
export type SessionView<K extends keyof SessionService> = Pick<SessionService, K> &
  Pick<EventEmitter<SessionEvents>, 'on' | 'off'>;

export interface SessionServiceOptions {
  sessionId: string;
  /** What its worker needs to open it. */
  open: SessionOpenInput;
  /** Picks the worker of the pool that hosts it, each time it starts. */
  placeOn: () => PoolWorker;
  logger: Logger;
}

/** The errors of a send that WhatsApp or the worker failed: the ones `sendFailed` reports. */
const sendFailures: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'SEND_FAILED',
  'TIMEOUT',
  'WORKER_GONE',
  'INVALID_MESSAGE',
  'INTERNAL',
]);

/**
 * One WhatsApp session as the API sees it: its state and the read model of its polls, kept
 * from its worker's snapshot and events, and the commands forwarded to the worker of the pool
 * that hosts it (./poolWorker.ts). Reads never wait on the worker.
 */
export class SessionService extends SessionMirror implements WorkerTenant {
  readonly sessionId: string;
  private open: SessionOpen;
  private readonly placeOn: () => PoolWorker;
  private worker: PoolWorker | null = null;
  private hosting: WorkerState = 'stopped';
  private restartCount = 0;
  private channel: ChannelClient | null = null;
  private attaching: { thread: Worker; done: Promise<void> } | null = null;
  private stopping: Promise<void> | null = null;
  private backend: SessionBackend = {};
  /** Its worker's reports in order, the `votes` events of one turn as one (./votesPerTurn.ts). */
  private readonly reports = new VotesPerTurn((event) => this.report(event));
  /**
   * In a cluster: the node that runs the session (its lease holder), this one included; null
   * when none does, or outside a cluster.
   */
  runsOn: string | null = null;

  constructor(options: SessionServiceOptions) {
    super(options.logger);
    this.sessionId = options.sessionId;
    this.open = SessionOpen.parse(options.open);
    this.placeOn = options.placeOn;
  }

  /** The worker of the pool it was placed on (when it last started). */
  get hostedOn(): PoolWorker | null {
    return this.worker;
  }

  /**
   * Whether it runs: on this node's worker, or (in a cluster) on the node `runsOn`, which
   * counts as `running` here.
   */
  get runState(): WorkerState {
    return this.hosting === 'stopped' && this.runsOn !== null ? 'running' : this.hosting;
  }

  /** Whether its worker hosts it: `running` once open and loaded. */
  get workerState(): WorkerState {
    return this.hosting;
  }

  /** How often its worker was restarted (after a crash) while hosting it. */
  get workerRestarts(): number {
    return this.restartCount;
  }

  /**
   * Where its reports go and its commands run in a cluster (./sessionReport.ts); `{}` for a
   * session of its own worker. A backend that publishes takes effect for what the worker
   * reports next: `resync()` republishes the whole state.
   */
  setBackend(backend: SessionBackend): void {
    this.backend = backend;
  }

  /**
   * Reads its worker's whole state again and reports it (a resync); with `replace`, each poll
   * replaces a node's copy at the same version too (events were lost on their way).
   */
  async resync(replace = false): Promise<void> {
    const channel = this.channel;
    if (!channel?.ready || this.hosting !== 'running') throw errors.workerGone('not running');
    await this.load(channel, replace);
  }

  /**
   * Opens the session on its worker; resolves once the read model is filled. `fence`: the
   * fencing token of this node's lease on it (in a cluster), which every write then carries.
   */
  async start(fence?: number): Promise<void> {
    if (this.hosting !== 'stopped' || this.stopping) {
      throw errors.conflict('session already started');
    }
    if (fence !== undefined) this.open = { ...this.open, fence };
    this.hosting = 'starting';
    this.worker = this.placeOn();
    try {
      await this.worker.host(this);
    } catch (err) {
      this.hosting = 'stopped';
      this.channel?.close(errors.workerGone('the session failed to start'));
      this.channel = null;
      throw err;
    }
  }

  /** WorkerTenant: opens the session on a (new) thread of its worker and loads its snapshot. */
  attach(thread: Worker): Promise<void> {
    if (this.attaching?.thread !== thread) {
      this.attaching = { thread, done: this.openOn(thread) };
    }
    return this.attaching.done;
  }

  /** WorkerTenant: its worker died; it is opened again when the worker is back. */
  detached(exit: WorkerExit): void {
    this.channel?.close(errors.workerGone(`the WhatsApp worker exited (code ${exit.code})`));
    this.channel = null;
    this.attaching = null;
    this.restartCount += 1;
    this.hosting = 'restarting';
    this.disconnected();
    this.emit('workerExit', { ...exit, restarts: this.restartCount });
  }

  async sendPoll(poll: SendPollInput): Promise<Poll> {
    const result = await this.call({ type: 'sendPoll', poll }).catch((error: unknown) => {
      if (sendFailures.has(PollMastersError.from(error).code)) {
        this.emit('sendFailed', { chatId: poll.chatId, error });
      }
      throw error;
    });
    // The worker's pollSent event may arrive after this reply: the read model has it either way.
    return this.settle(result.poll);
  }

  /**
   * Casts the account's own vote. The worker announces the stored vote before it answers, so
   * the read model has it: the poll returned is the read model's (or the worker's, if newer).
   */
  async votePoll(vote: VotePollInput): Promise<VotePollResult> {
    const result = await this.call({ type: 'votePoll', vote });
    return { vote: result.vote, poll: await this.settle(result.poll) };
  }

  async listChats(): Promise<Chat[]> {
    return (await this.call({ type: 'listChats' })).chats;
  }

  async logout(): Promise<void> {
    await this.call({ type: 'logout' });
    // In a cluster the logout comes back through the stream, maybe after the reply: waited for,
    // briefly, so that the answer (and what is read next on this node) tells it, as on one node.
    if (this.backend.publish || this.backend.forward) await this.loggedOut();
  }

  /**
   * A webhook command (endpoints and their deliveries): its worker owns them, so the session
   * must be started. BAD_INPUT (a URL it may not use, ...) and NOT_FOUND change nothing.
   */
  webhook<T extends WebhookCommandType>(command: CommandOf<T>): Promise<CommandResult<T>> {
    return this.call(command);
  }

  async requestPairingCode(phoneNumber: string): Promise<string> {
    return (await this.call({ type: 'requestPairingCode', phoneNumber })).code;
  }

  /**
   * How long the current worker thread's event loop has been busy (decrypting, storing,
   * talking to WhatsApp) since it started, in ms; 0 without a worker. For the bench.
   */
  workerBusyMs(): number {
    return this.worker?.busyMs() ?? 0;
  }

  /** CPU time of the current worker thread since it started, in µs; null if unknown. For the bench. */
  async workerCpuUs(): Promise<number | null> {
    return (await this.worker?.cpuUs()) ?? null;
  }

  /**
   * Ends its worker thread abruptly, as a crash would: the worker is restarted with the
   * sessions it hosts. For fault tests and for an operator whose connection is wedged.
   */
  async killWorker(): Promise<void> {
    await this.worker?.kill();
  }

  /** Asks its worker to flush and close it (its database too); it may start again later. */
  stop(timeoutMs = 4_000): Promise<void> {
    this.stopping ??= this.close(timeoutMs).finally(() => {
      this.stopping = null;
    });
    return this.stopping;
  }

  private async close(timeoutMs: number): Promise<void> {
    const channel = this.channel;
    this.hosting = 'stopped';
    this.attaching = null;
    this.worker?.release(this);
    if (channel?.ready) {
      await channel.call({ type: 'closeSession' }, { timeoutMs }).catch((err: unknown) => {
        this.logger.warn({ err }, 'session did not close cleanly');
      });
    }
    channel?.close(errors.workerGone('the session is stopped'));
    this.channel = null;
    // Not connected to WhatsApp any more: what needs the connection is refused as not ready.
    this.disconnected();
  }

  /**
   * The session is cut from its worker: the votes the worker reported before (still gathered
   * for this turn, ./votesPerTurn.ts) are delivered first, then the state says so.
   */
  private disconnected(): void {
    this.reports.flush();
    this.setState({ ...this.sessionState, status: 'disconnected', qr: null });
  }

  /**
   * The read model's copy of a poll a command changed (or the command's, if newer). In a
   * cluster the change comes back through the stream: waited for, briefly.
   */
  private async settle(poll: Poll): Promise<Poll> {
    if (this.backend.publish || this.backend.forward) await this.reached(poll.id, poll.version);
    else this.addPoll(poll);
    const known = this.polls.get(poll.id);
    return known && known.version >= poll.version ? known : poll;
  }

  private async call<T extends CommandType>(command: CommandOf<T>): Promise<CommandResult<T>> {
    if (this.backend.forward) return this.backend.forward(command);
    const channel = this.channel;
    if (!channel?.ready || this.hosting !== 'running') {
      throw errors.workerGone(
        this.hosting === 'stopped'
          ? 'the session is stopped'
          : 'the WhatsApp worker is restarting; try again in a moment',
      );
    }
    // The channel was made with the worker's call timeout.
    return channel.call(command);
  }

  private async openOn(thread: Worker): Promise<void> {
    const channel = new ChannelClient(thread, {
      sessionId: this.sessionId,
      logger: this.logger,
      timeoutMs: this.worker?.options.callTimeoutMs,
    });
    this.channel?.close();
    this.channel = channel;
    this.wire(channel);
    try {
      await channel.call({ type: 'openSession', session: this.open });
      await channel.whenReady();
      await this.load(channel);
    } catch (err) {
      if (this.channel === channel) this.channel = null;
      channel.close(errors.workerGone('the session failed to open'));
      this.attaching = null;
      throw err;
    }
    if (this.channel === channel && !this.stopping) this.hosting = 'running';
  }

  /**
   * A ready worker's snapshot, reported as a resync: the session's state and the read model
   * start over from it. The polls come a page at a time (a large account is never one message,
   * nor one validation); votes announced between two pages are applied to the polls already
   * loaded, and the later pages hold them too (by version, nothing is counted twice or goes back).
   */
  private async load(channel: ChannelClient, replace = false): Promise<void> {
    let page = await channel.call({ type: 'snapshot' });
    let first = true;
    for (;;) {
      const { polls, next, ...state } = page;
      for (const report of resyncReports(state, polls, first, next === null, replace)) {
        this.reports.add(report);
        first = false;
      }
      if (next === null) break;
      page = await channel.call({ type: 'snapshot', after: next });
    }
    this.logger.info({ status: page.status }, 'worker ready');
  }

  private wire(channel: ChannelClient): void {
    const report = (event: SessionReport) => this.reports.add(event);
    for (const type of [
      'status',
      'qr',
      'user',
      'pollSent',
      'votes',
      'voteRejected',
      'webhookStats',
      'earlyVotes',
    ] as const) {
      channel.on(type, report);
    }
    // A fact of this node (its write was refused), not of the session: not for the stream.
    channel.on('fenced', () => this.emit('fenced'));
  }

  /** What its worker reports: to the stream of its cluster if it publishes, else applied. */
  private report(event: SessionReport): void {
    if (this.backend.publish) this.backend.publish(event);
    else this.applyReport(event);
  }
}
