import { EventEmitter } from 'node:events';
import type {
  EarlyVoteReport,
  Logger,
  Poll,
  PollPage,
  SessionState,
  VoteRejection,
} from '@pollmasters/shared';
import type { WorkerEventOf } from '@pollmasters/shared/node';
import type { PageRequest } from './pollPage.js';
import type { WorkerExit } from './poolWorker.js';
import { PollReadModel, type PollUpdate, pollUpdateOf } from './readModel.js';
import type { EventPosition, ResyncReport, SessionReport } from './sessionReport.js';

/** What waits in the session's webhook outbox, as its worker last reported. */
export type Outbox = Pick<WorkerEventOf<'webhookStats'>, 'pending' | 'oldestPendingAt'>;
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
   * PostgreSQL refused a write of its worker here: another node holds a newer fencing token
   * (for the metrics of this node; never published to the cluster's stream).
   */
  fenced: [];
  /**
   * A cluster node (re)built its read model: from now on its events carry positions of this
   * epoch, and every event after `seq` will be emitted (a tRPC log restarts here).
   */
  positioned: [EventPosition];
  /** Polls taken whole from the owner at this position (`takeOver`): a resync there. */
  resynced: [readonly Poll[], EventPosition];
}

/**
 * How long a clustered command's caller waits for what it changed (a poll, the login) to reach
 * the read model.
 */
const SETTLE_MS = 5_000;

/**
 * A session's read side: its state and the read model of its polls, kept from what its worker
 * reports (here, or on the node that owns it: ../cluster), and its events for the edges.
 * ./sessionService.ts adds its worker and commands.
 */
export class SessionMirror extends EventEmitter<SessionEvents> {
  protected readonly polls = new PollReadModel();
  private current: SessionState = { status: 'disconnected', qr: null, user: null };
  private waitingVotes = 0;
  private outbox: Outbox = {
    pending: 0,
    oldestPendingAt: null,
  };
  private votesCountedSinceStart = 0;
  private lastEventMs: number | null = null;
  /** The polls a resync in progress has not named yet: gone from the worker when it ends. */
  private resyncStale: Set<string> | null = null;
  private lastPosition: EventPosition | null = null;

  constructor(protected readonly logger: Logger) {
    super();
  }

  get sessionState(): SessionState {
    return this.current;
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

  /** The place in its cluster stream of the last report applied; null outside a cluster. */
  get position(): EventPosition | null {
    return this.lastPosition;
  }

  /** A cluster node rebuilt its read model up to `at`: see the `positioned` event. */
  positionAt(at: EventPosition): void {
    this.lastPosition = at;
    this.emit('positioned', at);
  }

  /**
   * A cluster node missed events of the stream: `polls` are all the owner holds at `at`, after
   * them. Each poll of another version here is replaced whatever version this node holds (not
   * merged), and announced: `pollsUpdated` without a position, `resynced` at `at`.
   */
  takeOver(state: SessionState, polls: readonly Poll[], at: EventPosition): void {
    const named = new Set(polls.map((p) => p.id));
    this.polls.forget(this.polls.ids().filter((id) => !named.has(id)));
    const replaced = polls
      .filter((p) => this.polls.versionOf(p.id) !== p.version)
      .map((p) => this.polls.put(p));
    this.lastPosition = at;
    this.setState(state, at);
    if (replaced.length === 0) return;
    this.emit(
      'pollsUpdated',
      replaced.map((p) => pollUpdateOf(p)),
    );
    this.emit('resynced', replaced, at);
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
      const [changed] = event.replace
        ? this.polls.replace(event.poll)
        : this.polls.merge([event.poll]);
      if (changed) this.emit('pollsUpdated', [pollUpdateOf(changed)], at);
    }
    if (event.last) {
      if (this.resyncStale) this.polls.forget(this.resyncStale);
      this.resyncStale = null;
      this.logger.debug({ polls: this.polls.size }, 'read model resynced');
    }
  }

  protected addPoll(poll: Poll, at?: EventPosition): void {
    const version = this.polls.versionOf(poll.id);
    if (version !== undefined && version >= poll.version) return;
    const kept = this.polls.put(poll);
    if (version === undefined) this.emit('pollSent', kept, at);
    else this.emit('pollsUpdated', [pollUpdateOf(kept)], at);
  }

  protected setState(next: SessionState, at?: EventPosition): void {
    const prev = this.current;
    if (prev.status === next.status && prev.qr === next.qr && prev.user?.id === next.user?.id) {
      return;
    }
    this.current = next;
    this.emit('state', next, at);
  }

  /** Waits, at most `SETTLE_MS`, until the read model has a poll at `version` or newer. */
  protected reached(pollId: string, version: number): Promise<void> {
    return this.settles(
      () => (this.polls.versionOf(pollId) ?? -1) >= version,
      ['pollSent', 'pollsUpdated'],
    );
  }

  /** Waits, at most `SETTLE_MS`, until the session has no user (a logout reached it). */
  protected loggedOut(): Promise<void> {
    return this.settles(() => this.current.user === null, ['state']);
  }

  /** Resolves once `there()` holds, checked now and on each of `events`, or after SETTLE_MS. */
  private settles(there: () => boolean, events: readonly (keyof SessionEvents)[]): Promise<void> {
    if (there()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!there()) return;
        done();
      };
      const done = () => {
        clearTimeout(timer);
        for (const event of events) this.off(event, check);
        resolve();
      };
      const timer = setTimeout(done, SETTLE_MS);
      for (const event of events) this.on(event, check);
    });
  }
}
