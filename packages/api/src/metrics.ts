import { type EarlyVoteReport, SessionStatus, VoteRejectionReason } from '@pollmasters/shared';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { SessionService, WorkerState } from './session/sessionService.js';

/** What the metrics read besides the session's events. */
export interface MetricsSources {
  session: Pick<
    SessionService,
    | 'sessionState'
    | 'workerState'
    | 'pollCount'
    | 'earlyVotesWaiting'
    | 'workerBusyMs'
    | 'on'
    | 'off'
  >;
  /** Connected Socket.IO clients (the GUI). */
  socketIoClients: () => number;
  /** Open tRPC WebSocket connections. */
  trpcClients: () => number;
}

const workerStates: readonly WorkerState[] = ['starting', 'running', 'restarting', 'stopped'];

/**
 * The server's Prometheus metrics, in a registry of its own (several servers in one process
 * do not clash): counters fed by the session's events, gauges read at each scrape.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly detach: () => void;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    const { session } = sources;
    collectDefaultMetrics({ register: this.registry });

    const accepted = new Counter({
      name: 'pollmasters_votes_accepted_total',
      help: 'Votes decrypted and counted (changed and withdrawn votes included).',
      registers,
    });
    const rejected = new Counter({
      name: 'pollmasters_votes_rejected_total',
      help: 'Votes that could not be used, by reason.',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of VoteRejectionReason.options) rejected.inc({ reason }, 0);
    const pollsSent = new Counter({
      name: 'pollmasters_polls_sent_total',
      help: 'Polls stored: sent through the API, or come from WhatsApp (phone, history sync, members).',
      registers,
    });
    const sendFailures = new Counter({
      name: 'pollmasters_send_failures_total',
      help: 'Poll sends that WhatsApp or the worker failed (not an unknown chat, bad input, or a send while not connected).',
      registers,
    });
    const earlyExpired = new Counter({
      name: 'pollmasters_early_votes_expired_total',
      help: 'Early votes given up (rejected as unknown_poll): waited too long (age), or pushed out as the oldest (limit).',
      labelNames: ['cause'],
      registers,
    });
    for (const cause of ['age', 'limit']) earlyExpired.inc({ cause }, 0);
    new Gauge({
      name: 'pollmasters_early_votes_waiting',
      help: 'Votes kept until their poll arrives (their poll is not known yet).',
      registers,
      collect() {
        this.set(session.earlyVotesWaiting);
      },
    });
    const restarts = new Counter({
      name: 'pollmasters_worker_restarts_total',
      help: 'Restarts of the WhatsApp worker thread after an unexpected exit.',
      registers,
    });
    new Gauge({
      name: 'pollmasters_connection_state',
      help: 'WhatsApp connection status: 1 for the current one, 0 for the others.',
      labelNames: ['status'],
      registers,
      collect() {
        for (const status of SessionStatus.options)
          this.set({ status }, +(session.sessionState.status === status));
      },
    });
    new Gauge({
      name: 'pollmasters_worker_state',
      help: 'State of the worker thread: 1 for the current one, 0 for the others.',
      labelNames: ['state'],
      registers,
      collect() {
        for (const state of workerStates) this.set({ state }, +(session.workerState === state));
      },
    });
    new Gauge({
      name: 'pollmasters_worker_busy_seconds',
      help: 'Time the worker thread was busy since it started (rate() of it: how loaded it is).',
      registers,
      collect() {
        this.set(session.workerBusyMs() / 1000);
      },
    });
    new Gauge({
      name: 'pollmasters_polls',
      help: 'Polls known to the server.',
      registers,
      collect() {
        this.set(session.pollCount);
      },
    });
    new Gauge({
      name: 'pollmasters_socketio_clients',
      help: 'Connected Socket.IO clients (compat API).',
      registers,
      collect() {
        this.set(sources.socketIoClients());
      },
    });
    new Gauge({
      name: 'pollmasters_trpc_clients',
      help: 'Open tRPC WebSocket connections.',
      registers,
      collect() {
        this.set(sources.trpcClients());
      },
    });

    const onUpdated = (updates: readonly { changes: readonly unknown[] }[]) => {
      let changes = 0;
      for (const update of updates) changes += update.changes.length;
      accepted.inc(changes);
    };
    const onRejected = ({ reason }: { reason: string }) => rejected.inc({ reason });
    const onSent = () => pollsSent.inc();
    const onSendFailed = () => sendFailures.inc();
    const onExit = () => restarts.inc();
    const onEarlyVotes = ({ expired }: EarlyVoteReport) => {
      earlyExpired.inc({ cause: 'age' }, expired.age);
      earlyExpired.inc({ cause: 'limit' }, expired.limit);
    };
    session.on('pollsUpdated', onUpdated);
    session.on('voteRejected', onRejected);
    session.on('pollSent', onSent);
    session.on('sendFailed', onSendFailed);
    session.on('workerExit', onExit);
    session.on('earlyVotes', onEarlyVotes);
    this.detach = () => {
      session.off('pollsUpdated', onUpdated);
      session.off('voteRejected', onRejected);
      session.off('pollSent', onSent);
      session.off('sendFailed', onSendFailed);
      session.off('workerExit', onExit);
      session.off('earlyVotes', onEarlyVotes);
    };
  }

  /** The Prometheus text exposition. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  close(): void {
    this.detach();
    this.registry.clear();
  }
}
