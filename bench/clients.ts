import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createPollMastersClient, type PollMastersClient } from '@pollmasters/client';
import type { ClientReport, FromClient, Tally, ToClient } from './protocol.js';
import { ServerProcess } from './serverProcess.js';

/** What one phase of the bench expects, and what each client saw of it. */
export class Phase {
  trpcLatency: number[] = [];
  readonly socketLatency: number[] = [];
  trpcChanges = 0;
  trpcLastAt = 0;
  /** When the Socket.IO client first had every vote of the phase; 0 until then. */
  socketLastAt = 0;
  socketPayloads = 0;
  /** Per poll: the counts (option name -> count) and voter count each client saw last. */
  trpcFinal = new Map<string, Tally>();
  socketFinal = new Map<string, Tally>();
  readonly total: number;
  /** The tRPC client process's event-loop delay during the phase, p99 and max, ms. */
  trpcLoopDelayMs: [number, number] = [0, 0];

  /**
   * `votes`: poll id -> votes cast on it in this phase (one per voter). `matchSocketVoters`: match
   * each voter's first Socket.IO sighting to its injection (the latency phase); otherwise only
   * the final states are kept, so that the clients' own bookkeeping takes little CPU.
   */
  constructor(
    readonly votes: ReadonlyMap<string, number>,
    readonly matchSocketVoters = false,
  ) {
    this.total = [...votes.values()].reduce((a, b) => a + b, 0);
  }

  /** What the two clients saw, once each had every vote. */
  take(trpc: ClientReport, socket: ClientReport): void {
    this.trpcLatency = trpc.latency;
    this.trpcChanges = trpc.count;
    this.trpcLastAt = trpc.lastAt;
    this.trpcFinal = new Map(trpc.final);
    this.trpcLoopDelayMs = trpc.loopDelayMs;
    this.socketPayloads = socket.count;
    this.socketLastAt = socket.lastAt;
    this.socketFinal = new Map(socket.final);
    // A voter's Socket.IO latency: its first sighting there after its injection (from tRPC).
    const injectedAt = new Map(trpc.voters);
    for (const [key, seenAt] of socket.voters) {
      const injected = injectedAt.get(key);
      if (injected !== undefined) this.socketLatency.push(seenAt - injected);
    }
  }
}

type ClientProcess = ServerProcess<ToClient, FromClient>;

const startClient = (kind: 'trpc' | 'socket', url: string): Promise<ClientProcess> => {
  const script = join(import.meta.dirname, 'clientProcess.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, kind, url], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  return ServerProcess.attach<ToClient, FromClient>(child);
};

/**
 * The two clients of the bench, each in a process of its own as real clients are
 * (bench/clientProcess.ts): one tRPC subscriber (`polls.updates`, through the client package)
 * and one Socket.IO client (`poll_update_to_gui`), as a GUI would connect. In one process, the
 * tRPC client's receipts waited while the Socket.IO client parsed full states (see
 * docs/performance.md, "Session 9: bench clients"). `trpc` is a third, idle client of the
 * bench's own, for reading every poll.
 */
export class Clients {
  readonly trpc: PollMastersClient;

  private constructor(
    url: string,
    private readonly subscriber: ClientProcess,
    private readonly gui: ClientProcess,
  ) {
    this.trpc = createPollMastersClient({ url });
  }

  /** Both clients started and live (tRPC `synced`, Socket.IO initial data). */
  static async start(url: string): Promise<Clients> {
    const [subscriber, gui] = await Promise.all([
      startClient('trpc', url),
      startClient('socket', url),
    ]);
    return new Clients(url, subscriber, gui);
  }

  private get both() {
    return [this.subscriber, this.gui] as const;
  }

  /** Resolves once both watch `phase` (before its first vote is injected). */
  async watch(phase: Phase): Promise<void> {
    const watch = { votes: [...phase.votes], matchVoters: phase.matchSocketVoters };
    await Promise.all(this.both.map((c) => c.request({ type: 'watch', phase: watch }, 'watching')));
  }

  /** Vote changes the tRPC client and full states the Socket.IO client received so far. */
  async progress(): Promise<{ changes: number; payloads: number }> {
    const [changes, payloads] = await Promise.all(
      this.both.map((c) => c.request({ type: 'progress' }, 'progress').then((m) => m.count)),
    );
    return { changes: changes!, payloads: payloads! };
  }

  /** Fills `phase` once both clients saw every vote; rejects after `timeoutMs`. */
  async done(phase: Phase, timeoutMs: number): Promise<void> {
    const reports = await Promise.allSettled(
      this.both.map((c) =>
        c.request({ type: 'done', timeoutMs }, 'report', timeoutMs + 10_000).then((m) => m.report),
      ),
    );
    const failed = reports.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    if (failed.length > 0) throw new Error(`clients: ${failed.join('; ')}`);
    const [trpc, socket] = reports.map((r) => (r as PromiseFulfilledResult<ClientReport>).value);
    phase.take(trpc!, socket!);
  }

  /** CPU time of the two client processes so far, µs. */
  async cpuUs(): Promise<number> {
    const usage = await Promise.all(this.both.map((c) => c.request({ type: 'usage' }, 'usage')));
    return usage.reduce((sum, u) => sum + u.cpuUs, 0);
  }

  async close(): Promise<void> {
    await Promise.all([...this.both.map((c) => c.stop()), this.trpc.close()]);
  }
}
