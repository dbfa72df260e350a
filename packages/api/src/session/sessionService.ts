import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import {
  type Chat,
  type EarlyVoteReport,
  type ErrorCode,
  errors,
  type Logger,
  type Poll,
  PollMastersError,
  type PollPage,
  type SendPollInput,
  type SessionState,
  type VotePollInput,
  type VotePollResult,
  type VoteRejection,
} from '@pollmasters/shared';
import {
  ChannelClient,
  type CommandOf,
  type CommandResult,
  type CommandType,
  SessionOpen,
  type SessionOpenInput,
  type WebhookCommandType,
  type WorkerEventOf,
} from '@pollmasters/shared/node';
import type { PageRequest } from './pollPage.js';
import type { PoolWorker, WorkerExit, WorkerState, WorkerTenant } from './poolWorker.js';
import { PollReadModel, type PollUpdate, pollUpdateOf } from './readModel.js';

export type { WorkerExit, WorkerState } from './poolWorker.js';
export type { PollUpdate } from './readModel.js';

/** What waits in the session's webhook outbox, as its worker last reported. */
type Outbox = Pick<WorkerEventOf<'webhookStats'>, 'pending' | 'oldestPendingAt'>;
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
  /** The worker's early votes (waiting for their poll) changed. */
  earlyVotes: [EarlyVoteReport];
  /**
   * WhatsApp or the worker failed to send a poll (for the metrics; the caller gets the error).
   * Not for the caller's mistakes (an unknown chat, bad input) nor a session not connected.
   */
  sendFailed: [{ chatId: string; error: unknown }];
  /** The session's webhook deliveries since the last report, and its outbox depth. */
  webhookStats: [Omit<WorkerEventOf<'webhookStats'>, 'type'>];
  /** The worker thread exited unexpectedly and will be restarted. */
  workerExit: [WorkerExit];
}

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
export class SessionService extends EventEmitter<SessionEvents> implements WorkerTenant {
  readonly sessionId: string;
  private readonly logger: Logger;
  private readonly open: SessionOpen;
  private readonly placeOn: () => PoolWorker;
  private worker: PoolWorker | null = null;
  private readonly polls = new PollReadModel();
  private current: SessionState = { status: 'disconnected', qr: null, user: null };
  private waitingVotes = 0;
  private outbox: Outbox = {
    pending: 0,
    oldestPendingAt: null,
  };
  private votesCountedSinceStart = 0;
  private lastEventMs: number | null = null;
  private hosting: WorkerState = 'stopped';
  private restartCount = 0;
  private channel: ChannelClient | null = null;
  private attaching: { thread: Worker; done: Promise<void> } | null = null;
  private stopping: Promise<void> | null = null;

  constructor(options: SessionServiceOptions) {
    super();
    this.sessionId = options.sessionId;
    this.logger = options.logger;
    this.open = SessionOpen.parse(options.open);
    this.placeOn = options.placeOn;
  }

  get sessionState(): SessionState {
    return this.current;
  }

  /** The worker of the pool it was placed on (when it last started). */
  get hostedOn(): PoolWorker | null {
    return this.worker;
  }

  /** Whether its worker hosts it: `running` once open and loaded. */
  get workerState(): WorkerState {
    return this.hosting;
  }

  /** How often its worker was restarted (after a crash) while hosting it. */
  get workerRestarts(): number {
    return this.restartCount;
  }

  /** Votes that wait for their poll in the worker, as it last reported. */
  get earlyVotesWaiting(): number {
    return this.waitingVotes;
  }

  /** Its webhook deliveries waiting to be sent, as its worker last reported. */
  get webhookOutbox(): Outbox {
    return this.outbox;
  }

  /** Votes its worker counted (changed and withdrawn ones included) since the server started. */
  get votesCounted(): number {
    return this.votesCountedSinceStart;
  }

  /** When its worker last reported something (status, QR, poll, vote), in ms since the epoch. */
  get lastEventAt(): number | null {
    return this.lastEventMs;
  }

  /** How many polls the read model holds (cheaper than `listPolls().length`). */
  get pollCount(): number {
    return this.polls.size;
  }

  listPolls(): Poll[] {
    return this.polls.list();
  }

  /** Every poll without its voters, newest first (`getPoll` makes one whole). */
  listPollHeads(): Omit<Poll, 'voters'>[] {
    return this.polls.heads();
  }

  /** One page of polls (`polls.list`). @throws BAD_INPUT for a cursor it did not make */
  pollPage(request: PageRequest): PollPage {
    return this.polls.page(request);
  }

  getPoll(id: string): Poll | undefined {
    return this.polls.get(id);
  }

  /** Opens the session on its worker; resolves once the read model is filled. */
  async start(): Promise<void> {
    if (this.hosting !== 'stopped' || this.stopping) {
      throw errors.conflict('session already started');
    }
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
    this.setState({ ...this.current, status: 'disconnected', qr: null });
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
    this.addPoll(result.poll);
    return this.polls.get(result.poll.id) ?? result.poll;
  }

  /**
   * Casts the account's own vote. The worker announces the stored vote before it answers, so
   * the read model has it: the poll returned is the read model's (or the worker's, if newer).
   */
  async votePoll(vote: VotePollInput): Promise<VotePollResult> {
    const result = await this.call({ type: 'votePoll', vote });
    this.addPoll(result.poll);
    return { vote: result.vote, poll: this.polls.get(result.poll.id) ?? result.poll };
  }

  async listChats(): Promise<Chat[]> {
    return (await this.call({ type: 'listChats' })).chats;
  }

  async logout(): Promise<void> {
    await this.call({ type: 'logout' });
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
    this.setState({ ...this.current, status: 'disconnected', qr: null });
  }

  private async call<T extends CommandType>(command: CommandOf<T>): Promise<CommandResult<T>> {
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
   * A ready worker's snapshot: the session's state and the read model start over from it. The
   * polls come a page at a time (a large account is never one message, nor one validation);
   * votes announced between two pages are applied to the polls already loaded, and the later
   * pages hold them too (by version, nothing is counted twice or goes back).
   */
  private async load(channel: ChannelClient): Promise<void> {
    // What it held before: those the snapshot does not name are gone from the worker (polls
    // announced while the pages come, by `pollSent`, are not in this set and stay).
    const stale = new Set(this.polls.ids());
    let page = await channel.call({ type: 'snapshot' });
    this.setState({ status: page.status, qr: page.qr, user: page.user });
    for (;;) {
      for (const poll of page.polls) stale.delete(poll.id);
      const changed = this.polls.merge(page.polls).map((poll) => pollUpdateOf(poll));
      if (changed.length > 0) this.emit('pollsUpdated', changed);
      if (page.next === null) break;
      page = await channel.call({ type: 'snapshot', after: page.next });
    }
    this.polls.forget(stale);
    this.logger.info({ polls: this.polls.size, status: page.status }, 'worker ready');
  }

  private wire(channel: ChannelClient): void {
    // Any event shows the session is alive: /healthz and /metrics report the last one's time.
    const seen =
      <A extends unknown[]>(handle: (...args: A) => void) =>
      (...args: A) => {
        this.lastEventMs = Date.now();
        handle(...args);
      };
    channel.on(
      'status',
      seen((e) =>
        this.setState({
          ...this.current,
          status: e.status,
          ...(e.status === 'ready' ? { qr: null } : {}),
        }),
      ),
    );
    channel.on(
      'qr',
      seen((e) => this.setState({ ...this.current, status: 'qr_pending', qr: e.qr })),
    );
    channel.on(
      'user',
      seen((e) => this.setState({ ...this.current, user: e.user })),
    );
    channel.on(
      'pollSent',
      seen((e) => this.addPoll(e.poll)),
    );
    channel.on(
      'votes',
      seen((e) => {
        this.votesCountedSinceStart += e.changes.length;
        const updates = [...this.polls.apply(e.changes).values()];
        if (updates.length > 0) this.emit('pollsUpdated', updates);
      }),
    );
    channel.on(
      'voteRejected',
      seen((e) => this.emit('voteRejected', e.rejection)),
    );
    channel.on('webhookStats', ({ type: _type, ...stats }) => {
      this.outbox = { pending: stats.pending, oldestPendingAt: stats.oldestPendingAt };
      this.emit('webhookStats', stats);
    });
    channel.on('earlyVotes', ({ waiting, expired }) => {
      this.waitingVotes = waiting;
      this.emit('earlyVotes', { waiting, expired });
    });
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
}
