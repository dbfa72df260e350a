import { BroadcastChannel } from 'node:worker_threads';
import { type ControlMessage, SandboxEvent } from './channel.js';
import type { LedgerVote } from './ledger.js';

/**
 * The other end of a sandbox network's BroadcastChannel, from any thread of the process:
 * what it cast, what the final results must be, and its controls (cast a vote, drop the
 * connection, log out from the phone). Used by the server's `/sandbox/ledger` and by tests.
 */
export class SandboxProbe {
  readonly casts: LedgerVote[] = [];
  /** Message ids the network delivered again after a connection died unacknowledged. */
  readonly redelivered: string[] = [];
  private readonly channel: BroadcastChannel;
  private readonly waiters = new Map<string, (event: SandboxEvent) => void>();
  private nextId = 0;
  private readonly nonce = Math.random().toString(36).slice(2, 8);

  constructor(name: string) {
    this.channel = new BroadcastChannel(name);
    this.channel.onmessage = (event) => {
      const parsed = SandboxEvent.safeParse((event as MessageEvent).data);
      if (!parsed.success) return;
      const e = parsed.data;
      if (e.type === 'cast') this.casts.push(e.vote);
      else if (e.type === 'redelivered') this.redelivered.push(...e.messageIds);
      else this.waiters.get(String(e.requestId))?.(e);
    };
  }

  /** Per poll: voter id -> options of their newest vote, and votes still to come. */
  async ledger(): Promise<Extract<SandboxEvent, { type: 'ledger' }>> {
    return (await this.request({ type: 'ledger', requestId: this.id() })) as Extract<
      SandboxEvent,
      { type: 'ledger' }
    >;
  }

  /** Waits until the network has cast and delivered every vote it planned for these polls. */
  async settled(
    pollIds: readonly string[],
    timeoutMs = 20_000,
  ): Promise<Record<string, Record<string, string[]>>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ledger = await this.ledger();
      if (pollIds.every((id) => ledger.pending[id] === 0)) return ledger.polls;
      if (Date.now() > deadline)
        throw new Error(`sandbox not settled: ${JSON.stringify(ledger.pending)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async vote(pollId: string, voter: string, options: string[]): Promise<LedgerVote> {
    const answer = await this.request({
      type: 'vote',
      pollId,
      voter,
      options,
      requestId: this.id(),
    });
    if (answer.type === 'error') throw new Error(answer.message);
    if (answer.type !== 'voted') throw new Error(`unexpected answer ${answer.type}`);
    return answer.vote;
  }

  /**
   * Casts `count` real encrypted votes of synthetic voters on each poll (see `voteBurst`) and
   * resolves with what the network expects the results to be.
   */
  async voteBurst(
    polls: { pollId: string; count: number }[],
    options: { seed: number; ratePerSec?: number; batchSize?: number; timeoutMs?: number },
  ): Promise<Extract<SandboxEvent, { type: 'burst' }>> {
    const { timeoutMs = 120_000, ...rest } = options;
    const answer = await this.request(
      { type: 'voteBurst', polls, batchSize: 500, ...rest, requestId: this.id() },
      timeoutMs,
    );
    if (answer.type === 'error') throw new Error(answer.message);
    if (answer.type !== 'burst') throw new Error(`unexpected answer ${answer.type}`);
    return answer;
  }

  dropConnection(): void {
    this.channel.postMessage({ type: 'dropConnection' } satisfies ControlMessage);
  }

  logoutFromPhone(): void {
    this.channel.postMessage({ type: 'logoutFromPhone' } satisfies ControlMessage);
  }

  close(): void {
    this.channel.close();
  }

  private id(): string {
    return `probe-${process.pid}-${this.nonce}-${++this.nextId}`;
  }

  private request(
    message: ControlMessage & { requestId: string },
    timeoutMs = 5_000,
  ): Promise<SandboxEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(message.requestId);
        reject(new Error(`sandbox did not answer ${message.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(message.requestId, (event) => {
        clearTimeout(timer);
        this.waiters.delete(message.requestId);
        resolve(event);
      });
      this.channel.postMessage(message);
    });
  }
}
