import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { createPollMastersClient, type PollMastersClient } from '@pollmasters/client';
import type { PollUpdateToGui, PollVotes } from '@pollmasters/shared';
import { io, type Socket } from 'socket.io-client';
import type { ClientReport, Tally, WatchPhase } from './protocol.js';

/**
 * The wall clock (CLOCK_REALTIME), which every process of the machine reads alike: the votes'
 * injection times are stamped with it in the server process (packages/worker/src/sandbox/
 * burst.ts), so a latency is the difference of two readings of one clock. Not
 * `performance.timeOrigin + performance.now()`: each process (and thread) fixes its own origin
 * when it starts and then follows the monotonic clock, so two processes' values differ by
 * milliseconds (a latency once came out negative).
 */
export const now = (): number => Date.now();

export const voterKey = (pollId: string, voter: string) => `${pollId}\u0000${voter}`;

/**
 * One client of the bench, in a process of its own (bench/clientProcess.ts), watching one
 * phase at a time: what it saw of the phase's polls, and when it had every vote of them.
 */
export abstract class Watcher {
  protected phase: { votes: Map<string, number>; matchVoters: boolean; total: number } | null =
    null;
  protected report: ClientReport = Watcher.empty();
  protected final = new Map<string, Tally>();
  /** poll/voter -> time (tRPC: its injection; Socket.IO: its first sighting); matchVoters only. */
  protected voters = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  /**
   * How late this process's event loop ran during the phase: a receipt that waited behind
   * other work of the client is counted as the server's latency.
   */
  private delay: IntervalHistogram | null = null;

  private static empty(): ClientReport {
    return { latency: [], voters: [], final: [], lastAt: 0, count: 0, loopDelayMs: [0, 0] };
  }

  abstract connect(): Promise<void>;
  abstract close(): Promise<void>;
  /** Whether it has every vote of the phase. */
  protected abstract complete(): boolean;
  /** How far it got, for a phase that timed out. */
  protected abstract shortfall(): string;

  watch({ votes, matchVoters }: WatchPhase): void {
    const byPoll = new Map(votes);
    this.phase = { votes: byPoll, matchVoters, total: votes.reduce((n, [, c]) => n + c, 0) };
    this.report = Watcher.empty();
    this.final = new Map();
    this.voters = new Map();
    this.delay?.disable();
    this.delay = monitorEventLoopDelay({ resolution: 5 });
    this.delay.enable();
  }

  /** Vote changes (tRPC) or full states (Socket.IO) of the phase so far. */
  get count(): number {
    return this.report.count;
  }

  /** What it saw of the phase, once it has every vote; rejects after `timeoutMs`. */
  done(timeoutMs: number): Promise<ClientReport> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!this.complete()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        this.delay?.disable();
        const ms = (ns: number | undefined) => (ns ?? 0) / 1e6;
        const loopDelayMs: [number, number] = [ms(this.delay?.percentile(99)), ms(this.delay?.max)];
        resolve({ ...this.report, final: [...this.final], voters: [...this.voters], loopDelayMs });
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`did not see every vote within ${timeoutMs} ms: ${this.shortfall()}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  protected notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/**
 * The tRPC subscriber (`polls.updates`, through the client package). Latency is the time from
 * a vote's injection (its `senderTimestampMs`, which tRPC changes carry) to its receipt.
 */
export class TrpcWatcher extends Watcher {
  private readonly client: PollMastersClient;
  private unsubscribe: (() => void) | null = null;

  constructor(url: string) {
    super();
    this.client = createPollMastersClient({ url });
  }

  connect(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const sub = this.client.polls.updates.subscribe(
        { snapshot: false },
        {
          onData: ({ data }) => {
            if (data.type === 'synced') resolve();
            if (data.type === 'votes') for (const poll of data.polls) this.onVotes(poll);
          },
          onError: reject,
        },
      );
      this.unsubscribe = () => sub.unsubscribe();
    });
  }

  close(): Promise<void> {
    this.unsubscribe?.();
    return this.client.close();
  }

  protected complete(): boolean {
    return !!this.phase && this.report.count >= this.phase.total;
  }

  protected shortfall(): string {
    return `tRPC ${this.report.count}/${this.phase?.total ?? 0} changes`;
  }

  private onVotes(event: PollVotes): void {
    const { pollId } = event;
    const at = now();
    const phase = this.phase;
    if (!phase?.votes.has(pollId)) return;
    for (const change of event.changes) {
      this.report.latency.push(at - change.timestampMs);
      if (phase.matchVoters) this.voters.set(voterKey(pollId, change.voter), change.timestampMs);
    }
    this.report.count += event.changes.length;
    this.report.lastAt = at;
    this.final.set(pollId, {
      counts: Object.fromEntries(event.counts.map((c) => [c.name, c.count])),
      voters: event.voterCount,
    });
    this.notify();
  }
}

/**
 * The Socket.IO client (`poll_update_to_gui`), as the Python GUI connects: each push is a
 * poll's full state. With `matchVoters`, the first sighting of each voter is kept, for the
 * bench to match with its injection time (from the tRPC subscriber).
 */
export class SocketWatcher extends Watcher {
  private readonly socket: Socket;
  private closing = false;

  constructor(url: string) {
    super();
    this.socket = io(url, { transports: ['websocket'], reconnection: false });
  }

  /** Resolves once connected, with the initial data received. */
  connect(): Promise<void> {
    const initial = new Promise<void>((resolve, reject) => {
      this.socket.once('initial_poll_data', () => resolve());
      this.socket.once('connect_error', reject);
    });
    // It does not reconnect: say why it went, for a phase that then misses its final states.
    this.socket.on('disconnect', (reason) => {
      if (!this.closing) process.stderr.write(`[bench] Socket.IO client disconnected: ${reason}\n`);
    });
    this.socket.on('poll_update_to_gui', (payload: PollUpdateToGui) => this.onUpdate(payload));
    return initial;
  }

  close(): Promise<void> {
    this.closing = true;
    this.socket.close();
    return Promise.resolve();
  }

  protected complete(): boolean {
    if (!this.phase) return false;
    for (const [id, count] of this.phase.votes) {
      if ((this.final.get(id)?.voters ?? 0) < count) return false;
    }
    return true;
  }

  protected shortfall(): string {
    const votes = [...(this.phase?.votes ?? [])];
    const complete = votes.filter(([id, n]) => (this.final.get(id)?.voters ?? 0) >= n).length;
    return `Socket.IO polls complete ${complete}/${votes.length}`;
  }

  private onUpdate(payload: PollUpdateToGui): void {
    const at = now();
    const phase = this.phase;
    const pollId = payload.pollMsgId;
    if (!phase?.votes.has(pollId)) return;
    const voters = Object.keys(payload.voters);
    if (phase.matchVoters) {
      for (const voter of voters) {
        const k = voterKey(pollId, voter);
        if (!this.voters.has(k)) this.voters.set(k, at);
      }
    }
    this.report.count += 1;
    this.final.set(pollId, { counts: { ...payload.results }, voters: voters.length });
    // The moment the GUI has every vote of the phase (later pushes repeat what it has).
    if (!this.report.lastAt && this.complete()) this.report.lastAt = at;
    this.notify();
  }
}
