import { createPollMastersClient, listAllPolls, type PollMastersClient } from '@pollmasters/client';
import { tallyPoll } from '@pollmasters/shared';
import { now } from './clients.js';
import type { Tally } from './protocol.js';

/**
 * One tRPC client of one node, subscribed to `polls.updates` of every session the bench loads:
 * what a dashboard connected to that node sees. It counts the vote changes, keeps each poll's
 * last counts, and the latency of each change (receipt - the vote's injection time, both read
 * from the wall clock, as ./clients.ts does).
 */
export class NodeSubscriber {
  readonly client: PollMastersClient;
  readonly latency: number[] = [];
  /** Per session, poll id -> the counts and voters it saw last. */
  readonly final = new Map<string, Map<string, Tally>>();
  changes = 0;
  lastAt = 0;
  /**
   * What would explain a shortfall: whole poll states received instead of changes (a resync;
   * counted, not applied) and subscriptions that ended with an error after `synced`.
   */
  resyncs = 0;
  readonly ended: string[] = [];
  private readonly stops: (() => void)[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(url: string) {
    this.client = createPollMastersClient({ url });
  }

  /** Subscribes to every session's updates; resolves once each is `synced`. */
  async subscribe(sessionIds: readonly string[]): Promise<void> {
    await Promise.all(sessionIds.map((sessionId) => this.subscribeTo(sessionId)));
  }

  private subscribeTo(sessionId: string): Promise<void> {
    const final = new Map<string, Tally>();
    this.final.set(sessionId, final);
    return new Promise((resolve, reject) => {
      const sub = this.client.polls.updates.subscribe(
        { sessionId, snapshot: false },
        {
          onData: ({ data }) => {
            if (data.type === 'synced') resolve();
            if (data.type === 'pollState') this.resyncs += 1;
            if (data.type !== 'votes') return;
            const at = now();
            for (const poll of data.polls) {
              for (const change of poll.changes) this.latency.push(at - change.timestampMs);
              this.changes += poll.changes.length;
              final.set(poll.pollId, {
                counts: Object.fromEntries(poll.counts.map((c) => [c.name, c.count])),
                voters: poll.voterCount,
              });
            }
            this.lastAt = at;
            for (const waiter of [...this.waiters]) waiter();
          },
          onError: (err) => {
            this.ended.push(`${sessionId}: ${err.message}`);
            reject(err);
          },
        },
      );
      this.stops.push(() => sub.unsubscribe());
    });
  }

  /** Resolves once `total` vote changes came in; rejects after `timeoutMs`. */
  saw(total: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.changes < total) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const why = [
          `${this.resyncs} poll state(s) instead of changes`,
          ...this.ended.map((e) => `subscription ended: ${e}`),
        ];
        reject(
          new Error(
            `saw ${this.changes} of ${total} vote changes within ${timeoutMs} ms (${why.join('; ')})`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Counts per poll of a session as the node's read model answers `polls.list` (every page). */
  async listed(sessionId: string): Promise<Map<string, Tally>> {
    const out = new Map<string, Tally>();
    for (const poll of await listAllPolls(this.client, { sessionId })) {
      out.set(poll.id, { voters: poll.voters.length, counts: tallyPoll(poll) });
    }
    return out;
  }

  close(): Promise<void> {
    for (const stop of this.stops) stop();
    return this.client.close();
  }
}
