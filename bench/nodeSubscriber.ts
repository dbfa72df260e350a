import { createPollMastersClient, listAllPolls, type PollMastersClient } from '@pollmasters/client';
import { tallyPoll } from '@pollmasters/shared';
import { now } from './clientWatchers.js';
import { compare, type Expected } from './exactness.js';
import type { Tally } from './protocol.js';

/**
 * One tRPC client of one node, subscribed to `polls.updates` of every session the bench loads:
 * what a dashboard connected to that node sees. It counts the vote changes, keeps each poll's
 * last counts, and the latency of each change (receipt - the vote's injection time, both read
 * from the wall clock, as ./clientWatchers.ts does).
 */
export class NodeSubscriber {
  readonly client: PollMastersClient;
  readonly latency: number[] = [];
  /** Per session, poll id -> the counts and voters it saw last. */
  readonly final = new Map<string, Map<string, Tally>>();
  changes = 0;
  lastAt = 0;
  /**
   * What a shortfall would come from, and how the subscriber made up for it: whole poll states
   * received instead of changes (a resync: applied as the poll's counts), and subscriptions
   * that the node ended after `synced` (a slow reader is cut off), each resumed after its last
   * event id, as any client must.
   */
  resyncs = 0;
  readonly ended: string[] = [];
  private readonly stops = new Map<string, () => void>();
  private readonly waiters = new Set<() => void>();

  constructor(url: string) {
    this.client = createPollMastersClient({ url });
  }

  /** Subscribes to every session's updates; resolves once each is `synced`. */
  async subscribe(sessionIds: readonly string[]): Promise<void> {
    await Promise.all(
      sessionIds.map((sessionId) => {
        const final = new Map<string, Tally>();
        this.final.set(sessionId, final);
        return this.subscribeTo(sessionId, final, undefined);
      }),
    );
  }

  private subscribeTo(
    sessionId: string,
    final: Map<string, Tally>,
    lastEventId: string | undefined,
  ): Promise<void> {
    let lastId = lastEventId;
    let synced = false;
    return new Promise((resolve, reject) => {
      const sub = this.client.polls.updates.subscribe(
        { sessionId, snapshot: false, ...(lastId === undefined ? {} : { lastEventId: lastId }) },
        {
          onData: ({ id, data }) => {
            lastId = id;
            if (data.type === 'synced') {
              synced = true;
              resolve();
            }
            if (data.type === 'pollState') {
              this.resyncs += 1;
              final.set(data.poll.id, {
                counts: Object.fromEntries(data.counts.map((c) => [c.name, c.count])),
                voters: data.poll.voters.length,
              });
            }
            if (data.type === 'votes') {
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
            }
            for (const waiter of [...this.waiters]) waiter();
          },
          onError: (err) => {
            this.ended.push(`${sessionId}: ${err.message}`);
            if (!synced) return reject(err);
            // Cut off after it was live (a slow reader): resumed after its last event.
            this.subscribeTo(sessionId, final, lastId).catch((again: Error) =>
              this.ended.push(`${sessionId}: not resumed: ${again.message}`),
            );
          },
        },
      );
      this.stops.set(sessionId, () => sub.unsubscribe());
    });
  }

  /**
   * Resolves once the last counts of every poll are `expected` (session id -> poll id -> its
   * tally); rejects after `timeoutMs`, saying how far it got and why.
   */
  reached(expected: ReadonlyMap<string, Expected>, timeoutMs: number): Promise<void> {
    const done = () =>
      [...expected].every(([sessionId, polls]) =>
        compare([], '', polls, (id) => this.final.get(sessionId)?.get(id)),
      );
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const why = [
          `${this.changes} vote changes`,
          `${this.resyncs} poll state(s) instead of changes`,
          ...this.ended.map((e) => `subscription ended: ${e}`),
        ];
        reject(new Error(`not at the expected counts within ${timeoutMs} ms (${why.join('; ')})`));
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
    for (const stop of this.stops.values()) stop();
    return this.client.close();
  }
}
