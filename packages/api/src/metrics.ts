import { type EarlyVoteReport, SessionStatus, VoteRejectionReason } from '@pollmasters/shared';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { eachSession, type SessionSource } from './session/eachSession.js';
import { workerStates } from './session/poolWorker.js';
import type { SessionService } from './session/sessionService.js';
import type { WorkerPool } from './session/workerPool.js';
import { webhookMetrics } from './webhookMetrics.js';

/** What the metrics read besides the sessions' events. */
export interface MetricsSources {
  sessions: SessionSource & { pool: Pick<WorkerPool, 'workers'> };
  /** Connected Socket.IO clients (the GUI). */
  socketIoClients: () => number;
  /** Open tRPC WebSocket connections. */
  trpcClients: () => number;
}

const earlyCauses = ['age', 'limit'] as const;

/**
 * The server's Prometheus metrics, in a registry of its own (several servers in one process
 * do not clash). Every per-session series has a `session` label; counters are fed by each
 * session's events (votes accepted: the session's own count, read at each scrape, as
 * /healthz reads it), gauges read at each scrape. A deleted session's series go away.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly detach: () => void;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    const { sessions } = sources;
    const services = () => sessions.list().map((s) => s.service);
    collectDefaultMetrics({ register: this.registry });

    /** A gauge with one sample per session (and per `label` value, when given). */
    const perSession = (
      name: string,
      help: string,
      read: (
        s: SessionService,
        set: (value: number, labels?: Record<string, string>) => void,
      ) => void,
      extraLabels: readonly string[] = [],
    ) =>
      new Gauge<string>({
        name,
        help,
        labelNames: ['session', ...extraLabels],
        registers,
        collect() {
          this.reset();
          for (const s of services()) {
            read(s, (value, labels) => this.set({ session: s.sessionId, ...labels }, value));
          }
        },
      });

    // The session's own count, the one /healthz reports as `votesCounted`: read at each
    // scrape, so that the two never disagree (it is never counted a second time here).
    new Counter({
      name: 'pollmasters_votes_accepted_total',
      help: 'Votes decrypted and counted (changed and withdrawn votes included).',
      labelNames: ['session'],
      registers,
      collect() {
        this.reset();
        for (const s of services()) this.inc({ session: s.sessionId }, s.votesCounted);
      },
    });
    /** A counter with a `session` label (and these others), fed by the sessions' events. */
    const perSessionCounter = <L extends string = never>(
      name: string,
      help: string,
      extraLabels: readonly L[] = [],
    ) =>
      new Counter<'session' | L>({
        name,
        help,
        labelNames: ['session', ...extraLabels],
        registers,
      });
    const rejected = perSessionCounter(
      'pollmasters_votes_rejected_total',
      'Votes that could not be used, by reason.',
      ['reason'],
    );
    const pollsSent = perSessionCounter(
      'pollmasters_polls_sent_total',
      'Polls stored: sent through the API, or come from WhatsApp (phone, history sync, members).',
    );
    const sendFailures = perSessionCounter(
      'pollmasters_send_failures_total',
      'Poll sends that WhatsApp or the worker failed (not an unknown chat, bad input, or a send while not connected).',
    );
    const earlyExpired = perSessionCounter(
      'pollmasters_early_votes_expired_total',
      'Early votes given up (rejected as unknown_poll): waited too long (age), or pushed out as the oldest (limit).',
      ['cause'],
    );
    const restarts = perSessionCounter(
      'pollmasters_worker_restarts_total',
      "Restarts of the session's worker thread after an unexpected exit.",
    );
    const fencedWrites = perSessionCounter(
      'pollmasters_fenced_writes_total',
      'Writes of the session that PostgreSQL refused on this node for a stale fencing token: another node owns it (lease lost); each stops the session here.',
    );
    perSession(
      'pollmasters_early_votes_waiting',
      'Votes kept until their poll arrives (their poll is not known yet).',
      (s, set) => set(s.earlyVotesWaiting),
    );
    perSession(
      'pollmasters_connection_state',
      'WhatsApp connection status: 1 for the current one, 0 for the others.',
      (s, set) => {
        for (const status of SessionStatus.options)
          set(+(s.sessionState.status === status), { status });
      },
      ['status'],
    );
    perSession(
      'pollmasters_worker_state',
      'State of the session on its worker thread (in a cluster: running on another node counts as running): 1 for the current one, 0 for the others.',
      (s, set) => {
        for (const state of workerStates) set(+(s.runState === state), { state });
      },
      ['state'],
    );
    perSession(
      'pollmasters_session_node',
      'In a cluster: 1 for the node that runs the session (its lease holder); absent when none does.',
      (s, set) => {
        if (s.runsOn !== null) set(1, { node: s.runsOn });
      },
      ['node'],
    );
    perSession('pollmasters_polls', 'Polls known to the server.', (s, set) => set(s.pollCount));
    perSession(
      'pollmasters_session_last_event_timestamp_seconds',
      'When the session last reported something (status, QR, poll, vote); absent before that.',
      (s, set) => {
        if (s.lastEventAt !== null) set(s.lastEventAt / 1000);
      },
    );
    new Gauge({
      name: 'pollmasters_worker_busy_seconds',
      help: 'Time each worker thread was busy since it started (rate() of it: how loaded it is).',
      labelNames: ['worker'],
      registers,
      collect() {
        for (const [i, w] of sessions.pool.workers.entries()) {
          this.set({ worker: String(i) }, w.busyMs() / 1000);
        }
      },
    });
    new Gauge({
      name: 'pollmasters_sessions',
      help: 'Sessions of the server.',
      registers,
      collect() {
        this.set(services().length);
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

    const attachWebhooks = webhookMetrics(registers, perSession);
    const counters = [pollsSent, sendFailures, restarts, fencedWrites];
    this.detach = eachSession(sessions, (service) => {
      const session = service.sessionId;
      // Zero from the start, so that a rate() sees the first vote.
      for (const c of counters) c.inc({ session }, 0);
      for (const reason of VoteRejectionReason.options) rejected.inc({ session, reason }, 0);
      for (const cause of earlyCauses) earlyExpired.inc({ session, cause }, 0);
      const onRejected = ({ reason }: { reason: string }) => rejected.inc({ session, reason });
      const onSent = () => pollsSent.inc({ session });
      const onSendFailed = () => sendFailures.inc({ session });
      const onExit = () => restarts.inc({ session });
      const onFenced = () => fencedWrites.inc({ session });
      const onEarlyVotes = ({ expired }: EarlyVoteReport) => {
        for (const cause of earlyCauses) earlyExpired.inc({ session, cause }, expired[cause]);
      };
      service.on('voteRejected', onRejected);
      service.on('pollSent', onSent);
      service.on('sendFailed', onSendFailed);
      service.on('workerExit', onExit);
      service.on('fenced', onFenced);
      service.on('earlyVotes', onEarlyVotes);
      const detachWebhooks = attachWebhooks(service);
      return () => {
        detachWebhooks();
        service.off('voteRejected', onRejected);
        service.off('pollSent', onSent);
        service.off('sendFailed', onSendFailed);
        service.off('workerExit', onExit);
        service.off('fenced', onFenced);
        service.off('earlyVotes', onEarlyVotes);
        for (const c of counters) c.remove({ session });
        for (const reason of VoteRejectionReason.options) rejected.remove({ session, reason });
        for (const cause of earlyCauses) earlyExpired.remove({ session, cause });
      };
    });
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
