import { BroadcastChannel } from 'node:worker_threads';
import {
  type BurstKeys,
  type ControlMessage,
  CreatePoll,
  type CreatePollInput,
  type PreparedVotes,
  SandboxEvent,
} from './channel.js';
import type { LedgerVote } from './ledger.js';
import type { SentPoll } from './store.js';

/**
 * The other end of a sandbox network's BroadcastChannel, from any thread of the process:
 * what it cast, what the final results must be, and its controls (cast a vote, drop the
 * connection, log out from the phone). Used by the server's `/sandbox/ledger` and by tests.
 */
export class SandboxProbe {
  readonly casts: LedgerVote[] = [];
  /** Message ids the network delivered again after a connection died unacknowledged. */
  readonly redelivered: string[] = [];
  /** Votes our account sent that the members could not read. */
  readonly undecryptable: Extract<SandboxEvent, { type: 'undecryptable' }>[] = [];
  private readonly channel: BroadcastChannel;
  private readonly waiters = new Map<string, (event: SandboxEvent) => void>();
  private nextId = 0;
  private readonly nonce = Math.random().toString(36).slice(2, 8);

  constructor(name: string) {
    this.channel = new BroadcastChannel(name);
    this.channel.onmessage = (event) => {
      const parsed = SandboxEvent.safeParse((event as unknown as MessageEvent).data);
      if (!parsed.success) return;
      const e = parsed.data;
      if (e.type === 'cast') this.casts.push(e.vote);
      else if (e.type === 'redelivered') this.redelivered.push(...e.messageIds);
      else if (e.type === 'undecryptable') this.undecryptable.push(e);
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
   * Creates a poll on the account's phone (no `creator`) or by a member of the chat; with
   * `hold`, its delivery waits for `releasePoll` while its votes come.
   */
  async createPoll(poll: CreatePollInput): Promise<SentPoll> {
    const answer = await this.request({
      type: 'createPoll',
      // The schema's defaults, and a bad poll refused here rather than after a timeout.
      poll: CreatePoll.parse(poll),
      requestId: this.id(),
    });
    if (answer.type === 'error') throw new Error(answer.message);
    if (answer.type !== 'pollCreated') throw new Error(`unexpected answer ${answer.type}`);
    return answer.poll;
  }

  /** Delivers a poll created with `hold`. */
  async releasePoll(pollId: string): Promise<void> {
    const answer = await this.request({ type: 'releasePoll', pollId, requestId: this.id() });
    if (answer.type === 'error') throw new Error(answer.message);
    if (answer.type !== 'released') throw new Error(`unexpected answer ${answer.type}`);
  }

  /** What voters' phones know of these polls: what `prepareVotes` (./burst.ts) encrypts with. */
  async burstKeys(pollIds: string[], timeoutMs = 5_000): Promise<BurstKeys[]> {
    const answer = await this.request(
      { type: 'burstKeys', pollIds, requestId: this.id() },
      timeoutMs,
    );
    if (answer.type === 'error') throw new Error(answer.message);
    if (answer.type !== 'burstKeys') throw new Error(`unexpected answer ${answer.type}`);
    return answer.keys;
  }

  /**
   * Has the network deliver votes encrypted beforehand (see `voteBurst` in ./channel.ts);
   * resolves, once all are handed to the app, with the results they must give.
   */
  async castPrepared(
    votes: PreparedVotes[],
    options: { ratePerSec?: number; batchSize?: number; timeoutMs?: number } = {},
  ): Promise<Extract<SandboxEvent, { type: 'burst' }>> {
    const { timeoutMs = 120_000, ...rest } = options;
    const answer = await this.request(
      { type: 'voteBurst', votes, batchSize: 500, ...rest, requestId: this.id() },
      timeoutMs,
    );
    if (answer.type === 'error') throw new Error(answer.message);
    if (answer.type !== 'burst') throw new Error(`unexpected answer ${answer.type}`);
    return answer;
  }

  /**
   * Casts `count` real encrypted votes of synthetic voters on each poll: encrypted here, in
   * the caller's thread, as their phones would, then delivered by the network (`castPrepared`).
   */
  async voteBurst(
    polls: { pollId: string; count: number }[],
    options: { seed: number; ratePerSec?: number; batchSize?: number; timeoutMs?: number },
  ): Promise<Extract<SandboxEvent, { type: 'burst' }>> {
    const { seed, ...rest } = options;
    const keys = await this.burstKeys(
      polls.map((p) => p.pollId),
      options.timeoutMs,
    );
    // Loaded on demand: encryption needs Baileys, which the API's main thread does not load.
    const { prepareVotes } = await import('./burst.js');
    const votes = keys.map((k, i) => prepareVotes(k, seed, polls[i]!.count));
    return this.castPrepared(votes, rest);
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
