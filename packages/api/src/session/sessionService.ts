import { EventEmitter } from 'node:events';
import {
  type ChannelClient,
  type Chat,
  type ErrorCode,
  type Logger,
  type Poll,
  PollMastersError,
  type SendPollInput,
  type SessionState,
  type VotePollInput,
  type VotePollResult,
  type VoteRejection,
} from '@pollmasters/shared';
import { PollReadModel, type PollUpdate, pollUpdateOf } from './readModel.js';
import {
  type WorkerExit,
  type WorkerState,
  WorkerSupervisor,
  type WorkerSupervisorOptions,
} from './workerSupervisor.js';

export type { PollUpdate } from './readModel.js';
export type { WorkerExit, WorkerState } from './workerSupervisor.js';

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
  /**
   * WhatsApp or the worker failed to send a poll (for the metrics; the caller gets the error).
   * Not for the caller's mistakes (an unknown chat, bad input) nor a session not connected.
   */
  sendFailed: [{ chatId: string; error: unknown }];
  /** The worker thread exited unexpectedly and will be restarted. */
  workerExit: [WorkerExit];
}

/**
 * Some members of a session with its typed events: what an edge needs of it, so that its
 * tests can hand it a small double.
 */
export type SessionView<K extends keyof SessionService> = Pick<SessionService, K> &
  Pick<EventEmitter<SessionEvents>, 'on' | 'off'>;

export type SessionServiceOptions = WorkerSupervisorOptions;

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
 * from the worker's snapshot and events, and the commands forwarded to the worker, whose
 * thread the supervisor runs (./workerSupervisor.ts).
 */
export class SessionService extends EventEmitter<SessionEvents> {
  readonly sessionId: string;
  private readonly logger: Logger;
  private readonly polls = new PollReadModel();
  private current: SessionState = { status: 'disconnected', qr: null, user: null };
  private readonly worker: WorkerSupervisor;

  constructor(options: SessionServiceOptions) {
    super();
    this.sessionId = options.worker.sessionId;
    this.logger = options.logger;
    this.worker = new WorkerSupervisor(options, {
      attach: (channel) => this.wire(channel),
      ready: (channel) => this.load(channel),
      exited: (exit) => {
        this.setState({ ...this.current, status: 'disconnected', qr: null });
        this.emit('workerExit', exit);
      },
    });
  }

  get sessionState(): SessionState {
    return this.current;
  }

  get workerState(): WorkerState {
    return this.worker.state;
  }

  /** How often the worker was restarted after an unexpected exit. */
  get workerRestarts(): number {
    return this.worker.restarts;
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
  start(): Promise<void> {
    return this.worker.start();
  }

  async sendPoll(poll: SendPollInput): Promise<Poll> {
    const result = await this.worker.call({ type: 'sendPoll', poll }).catch((error: unknown) => {
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
    const result = await this.worker.call({ type: 'votePoll', vote });
    this.addPoll(result.poll);
    return { vote: result.vote, poll: this.polls.get(result.poll.id) ?? result.poll };
  }

  async listChats(): Promise<Chat[]> {
    return (await this.worker.call({ type: 'listChats' })).chats;
  }

  async logout(): Promise<void> {
    await this.worker.call({ type: 'logout' });
  }

  async requestPairingCode(phoneNumber: string): Promise<string> {
    return (await this.worker.call({ type: 'requestPairingCode', phoneNumber })).code;
  }

  /**
   * How long the current worker thread's event loop has been busy (decrypting, storing,
   * talking to WhatsApp) since it started, in ms; 0 without a worker.
   */
  workerBusyMs(): number {
    return this.worker.busyMs();
  }

  /**
   * Ends the worker thread abruptly, as a crash would: the supervisor restarts it. For fault
   * tests and for an operator whose WhatsApp connection is wedged.
   */
  killWorker(): Promise<void> {
    return this.worker.kill();
  }

  /** Asks the worker to flush and close, then ends it, within `timeoutMs`. Idempotent. */
  stop(timeoutMs = 4_000): Promise<void> {
    return this.worker.stop(timeoutMs);
  }

  /** A ready worker's snapshot: the session's state and the read model start over from it. */
  private async load(channel: ChannelClient): Promise<void> {
    const snapshot = await channel.call({ type: 'snapshot' });
    this.setState({ status: snapshot.status, qr: snapshot.qr, user: snapshot.user });
    const changed = this.polls.reset(snapshot.polls).map((poll) => pollUpdateOf(poll));
    if (changed.length > 0) this.emit('pollsUpdated', changed);
    this.logger.info({ polls: this.polls.size, status: snapshot.status }, 'worker ready');
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
}
