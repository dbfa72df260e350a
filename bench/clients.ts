import { createPollMastersClient, type PollMastersClient } from '@pollmasters/client';
import type { PollUpdateToGui, PollVotes } from '@pollmasters/shared';
import { io, type Socket } from 'socket.io-client';
import type { Tally } from './protocol.js';

/**
 * The wall clock (CLOCK_REALTIME), which every process of the machine reads alike: the votes'
 * injection times are stamped with it in the server process (packages/worker/src/sandbox/
 * burst.ts), so a latency is the difference of two readings of one clock. Not
 * `performance.timeOrigin + performance.now()`: each process (and thread) fixes its own origin
 * when it starts and then follows the monotonic clock, so two processes' values differ by
 * milliseconds (a latency once came out negative).
 */
export const now = (): number => Date.now();

/** What one phase of the bench expects, and what each client saw of it. */
export class Phase {
  readonly trpcLatency: number[] = [];
  readonly socketLatency: number[] = [];
  trpcChanges = 0;
  trpcLastAt = 0;
  /** When the Socket.IO client first had every vote of the phase; 0 until then. */
  socketLastAt = 0;
  socketPayloads = 0;
  /** Per poll: the counts (option name -> count) and voter count each client saw last. */
  readonly trpcFinal = new Map<string, Tally>();
  readonly socketFinal = new Map<string, Tally>();
  readonly total: number;
  private readonly waiters = new Set<() => void>();

  /**
   * `votes`: poll id -> votes cast on it in this phase (one per voter). `matchSocketVoters`: match
   * each voter's first Socket.IO sighting to its injection (the latency phase); otherwise only
   * the final states are kept, so that the bench's own bookkeeping does not take the CPU the
   * server needs.
   */
  constructor(
    readonly votes: ReadonlyMap<string, number>,
    readonly matchSocketVoters = false,
  ) {
    this.total = [...votes.values()].reduce((a, b) => a + b, 0);
  }

  get trpcDone(): boolean {
    return this.trpcChanges >= this.total;
  }

  get socketDone(): boolean {
    for (const [id, count] of this.votes) {
      if ((this.socketFinal.get(id)?.voters ?? 0) < count) return false;
    }
    return true;
  }

  /** Resolves when both clients saw every vote; rejects after `timeoutMs`. */
  done(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!this.trpcDone || !this.socketDone) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `clients did not see every vote within ${timeoutMs} ms: tRPC ${this.trpcChanges}/${this.total}, ` +
              `Socket.IO polls complete ${[...this.votes].filter(([id, n]) => (this.socketFinal.get(id)?.voters ?? 0) >= n).length}/${this.votes.size}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

const key = (pollId: string, voter: string) => `${pollId}\u0000${voter}`;

/**
 * The two clients of the bench: one tRPC subscriber (`polls.updates`, through the client
 * package) and one Socket.IO client (`poll_update_to_gui`), as a GUI would connect. Latency is
 * the time from a vote's injection (its `senderTimestampMs`, which tRPC changes carry) to its
 * receipt; a Socket.IO receipt is matched to the injection time by poll and voter.
 */
export class Clients {
  readonly trpc: PollMastersClient;
  private readonly socket: Socket;
  private phase: Phase | null = null;
  /** poll/voter -> injection time, learnt from tRPC changes. */
  private readonly injectedAt = new Map<string, number>();
  /** poll/voter -> Socket.IO receipt time, for voters whose injection time is not known yet. */
  private readonly socketFirst = new Map<string, number>();
  private readonly socketSeen = new Map<string, Set<string>>();
  private unsubscribe: (() => void) | null = null;
  socketPayloads = 0;
  private closing = false;

  constructor(url: string) {
    this.trpc = createPollMastersClient({ url });
    this.socket = io(url, { transports: ['websocket'], reconnection: false });
  }

  /** Connects both and resolves once each is live (tRPC `synced`, Socket.IO initial data). */
  async connect(): Promise<void> {
    const synced = new Promise<void>((resolve, reject) => {
      const sub = this.trpc.polls.updates.subscribe(
        { snapshot: false },
        {
          onData: ({ data }) => {
            if (data.type === 'synced') resolve();
            if (data.type === 'votes') for (const poll of data.polls) this.onTrpcVotes(poll);
          },
          onError: reject,
        },
      );
      this.unsubscribe = () => sub.unsubscribe();
    });
    const initial = new Promise<void>((resolve, reject) => {
      this.socket.once('initial_poll_data', () => resolve());
      this.socket.once('connect_error', reject);
    });
    // It does not reconnect: say why it went, for a phase that then misses its final states.
    this.socket.on('disconnect', (reason) => {
      if (!this.closing) process.stderr.write(`[bench] Socket.IO client disconnected: ${reason}\n`);
    });
    this.socket.on('poll_update_to_gui', (payload: PollUpdateToGui) =>
      this.onSocketUpdate(payload),
    );
    await Promise.all([synced, initial]);
  }

  watch(phase: Phase): void {
    this.phase = phase;
  }

  close(): Promise<void> {
    this.closing = true;
    this.unsubscribe?.();
    this.socket.close();
    return this.trpc.close();
  }

  private onTrpcVotes(event: PollVotes): void {
    const { pollId } = event;
    const at = now();
    const phase = this.phase;
    if (!phase?.votes.has(pollId)) return;
    for (const change of event.changes) {
      phase.trpcLatency.push(at - change.timestampMs);
      if (!phase.matchSocketVoters) continue;
      const k = key(pollId, change.voter);
      this.injectedAt.set(k, change.timestampMs);
      const seenBySocket = this.socketFirst.get(k);
      if (seenBySocket !== undefined) {
        phase.socketLatency.push(seenBySocket - change.timestampMs);
        this.socketFirst.delete(k);
      }
    }
    phase.trpcChanges += event.changes.length;
    phase.trpcLastAt = at;
    phase.trpcFinal.set(pollId, {
      counts: Object.fromEntries(event.counts.map((c) => [c.name, c.count])),
      voters: event.voterCount,
    });
    phase.notify();
  }

  /** The Socket.IO latency of each voter seen for the first time in this state. */
  private matchVoters(phase: Phase, pollId: string, voters: string[], at: number): void {
    let seen = this.socketSeen.get(pollId);
    if (!seen) {
      seen = new Set();
      this.socketSeen.set(pollId, seen);
    }
    for (const voter of voters) {
      if (seen.has(voter)) continue;
      seen.add(voter);
      const k = key(pollId, voter);
      const injected = this.injectedAt.get(k);
      if (injected === undefined) this.socketFirst.set(k, at);
      else phase.socketLatency.push(at - injected);
    }
  }

  private onSocketUpdate(payload: PollUpdateToGui): void {
    const at = now();
    this.socketPayloads += 1;
    const phase = this.phase;
    const pollId = payload.pollMsgId;
    if (!phase?.votes.has(pollId)) return;
    const voters = Object.keys(payload.voters);
    if (phase.matchSocketVoters) this.matchVoters(phase, pollId, voters, at);
    phase.socketPayloads += 1;
    phase.socketFinal.set(pollId, { counts: { ...payload.results }, voters: voters.length });
    // The moment the GUI has every vote of the phase (later pushes repeat what it has).
    if (!phase.socketLastAt && phase.socketDone) phase.socketLastAt = at;
    phase.notify();
  }
}
