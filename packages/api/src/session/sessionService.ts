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
import type {
  EventPosition,
  ResyncReport,
  SessionBackend,
  SessionReport,
} from './sessionReport.js';

export type { WorkerExit, WorkerState } from './poolWorker.js';
export type { PollUpdate } from './readModel.js';
export type { EventPosition, SessionBackend, SessionReport } from './sessionReport.js';

/** What waits in the session's webhook outbox, as its worker last reported. */
type Outbox = Pick<WorkerEventOf<'webhookStats'>, 'pending' | 'oldestPendingAt'>;
/**
 * Events of a session, for the API's edges (compat, tRPC, metrics). On a node of a cluster the
 * state and poll events carry their place in the session's stream, the same on every node.
 */
export interface SessionEvents {
  /** Status, QR or user changed. */
  state: [SessionState, EventPosition?];
  /** A poll was sent and stored. */
  pollSent: [Poll, EventPosition?];
  /**
   * Polls changed together (one stored batch of votes, or a resync), one update per poll: the
   * vote changes behind it (empty on a resync) and its counts after them; its full state is
   * built only when a listener reads `poll` (./readModel.ts).
   */
  pollsUpdated: [readonly PollUpdate[], EventPosition?];
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
  /**
   * A cluster node (re)built its read model: from now on its events carry positions of this
   * epoch, and every event after `seq` will be emitted (a tRPC log restarts here).
   */
  positioned: [EventPosition];
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

/** How long a clustered command's caller waits for the poll it changed to reach the read model. */
const SETTLE_MS = 5_000;

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
  private backend: SessionBackend = {};
  /** The polls a resync in progress has not named yet: gone from the worker when it ends. */
  private resyncStale: Set<string> | null = null;
  private lastPosition: EventPosition | null = null;

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

  /**
   * Where its reports go and its commands run in a cluster (./sessionReport.ts); `{}` for a
   * session of its own worker. A backend that publishes takes effect for what the worker
   * reports next: `resync()` republishes the whole state.
   */
  setBackend(backend: SessionBackend): void {
    this.backend = backend;
  }

  /** The place in its cluster stream of the last report applied; null outside a cluster. */
  get position(): EventPosition | null {
    return this.lastPosition;
  }

  /** A cluster node rebuilt its read model up to `at`: see the `positioned` event. */
  positionAt(at: EventPosition): void {
    this.lastPosition = at;
    this.emit('positioned', at);
  }

  /** Reads its worker's whole state again and reports it (a resync). */
  async resync(): Promise<void> {
    const channel = this.channel;
    if (!channel?.ready || this.hosting !== 'running') throw errors.workerGone('not running');
    await this.load(channel);
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

  private reached(pollId: string, version: number): Promise<void> {
    const there = () => (this.polls.versionOf(pollId) ?? -1) >= version;
    if (there()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!there()) return;
        done();
      };
      const done = () => {
        clearTimeout(timer);
        this.off('pollSent', check);
        this.off('pollsUpdated', check);
        resolve();
      };
      const timer = setTimeout(done, SETTLE_MS);
      this.on('pollSent', check);
      this.on('pollsUpdated', check);
    });
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
  private async load(channel: ChannelClient): Promise<void> {
    let page = await channel.call({ type: 'snapshot' });
    let first = true;
    for (;;) {
      const { polls, next, ...state } = page;
      const last = next === null;
      if (polls.length === 0 && last) {
        this.report({ type: 'resync', ...state, poll: null, first, last });
      }
      for (let i = 0; i < polls.length; i++) {
        const end = last && i === polls.length - 1;
        this.report({ type: 'resync', ...state, poll: polls[i]!, first, last: end });
        first = false;
      }
      if (last) break;
      page = await channel.call({ type: 'snapshot', after: next });
    }
    this.logger.info({ status: page.status }, 'worker ready');
  }

  private wire(channel: ChannelClient): void {
    const report = (event: SessionReport) => this.report(event);
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
  }

  /** What its worker reports: to the stream of its cluster if it publishes, else applied. */
  private report(event: SessionReport): void {
    if (this.backend.publish) this.backend.publish(event);
    else this.applyReport(event);
  }

  /**
   * Applies what its worker reported (here, or on the node that owns it: `at` is then the
   * report's place in the session's stream) to its state and read model, and emits it.
   */
  applyReport(event: SessionReport, at?: EventPosition): void {
    if (at) this.lastPosition = at;
    // Any event but the webhook and early-vote reports shows the session is alive: /healthz
    // and /metrics report the last one's time.
    if (event.type !== 'webhookStats' && event.type !== 'earlyVotes') this.lastEventMs = Date.now();
    switch (event.type) {
      case 'status':
        this.setState(
          {
            ...this.current,
            status: event.status,
            ...(event.status === 'ready' ? { qr: null } : {}),
          },
          at,
        );
        return;
      case 'qr':
        this.setState({ ...this.current, status: 'qr_pending', qr: event.qr }, at);
        return;
      case 'user':
        this.setState({ ...this.current, user: event.user }, at);
        return;
      case 'pollSent':
        this.addPoll(event.poll, at);
        return;
      case 'votes': {
        this.votesCountedSinceStart += event.changes.length;
        const updates = [...this.polls.apply(event.changes).values()];
        if (updates.length > 0) this.emit('pollsUpdated', updates, at);
        return;
      }
      case 'voteRejected':
        this.emit('voteRejected', event.rejection);
        return;
      case 'webhookStats': {
        const { type: _type, ...stats } = event;
        this.outbox = { pending: stats.pending, oldestPendingAt: stats.oldestPendingAt };
        this.emit('webhookStats', stats);
        return;
      }
      case 'earlyVotes':
        this.waitingVotes = event.waiting;
        this.emit('earlyVotes', { waiting: event.waiting, expired: event.expired });
        return;
      case 'resync':
        this.applyResync(event, at);
    }
  }

  private applyResync(event: ResyncReport, at: EventPosition | undefined): void {
    // What it held before: those the resync does not name are gone from the worker (polls
    // announced while its pages come, by `pollSent`, are not in this set and stay).
    if (event.first) this.resyncStale = new Set(this.polls.ids());
    this.setState({ status: event.status, qr: event.qr, user: event.user }, at);
    if (event.poll) {
      this.resyncStale?.delete(event.poll.id);
      const [changed] = this.polls.merge([event.poll]);
      if (changed) this.emit('pollsUpdated', [pollUpdateOf(changed)], at);
    }
    if (event.last) {
      if (this.resyncStale) this.polls.forget(this.resyncStale);
      this.resyncStale = null;
      this.logger.debug({ polls: this.polls.size }, 'read model resynced');
    }
  }

  private addPoll(poll: Poll, at?: EventPosition): void {
    const version = this.polls.versionOf(poll.id);
    if (version !== undefined && version >= poll.version) return;
    const kept = this.polls.put(poll);
    if (version === undefined) this.emit('pollSent', kept, at);
    else this.emit('pollsUpdated', [pollUpdateOf(kept)], at);
  }

  private setState(next: SessionState, at?: EventPosition): void {
    const prev = this.current;
    if (prev.status === next.status && prev.qr === next.qr && prev.user?.id === next.user?.id) {
      return;
    }
    this.current = next;
    this.emit('state', next, at);
  }
}
