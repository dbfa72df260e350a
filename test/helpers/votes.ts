import type { PollMastersClient } from '@pollmasters/client';
import type { Poll, VoteChange } from '@pollmasters/shared';

/**
 * Every vote change the server announced on `polls.updates`: what the worker stored (it emits
 * `votes` only after the transaction committed), as a client saw it.
 */
export class AckedVotes {
  readonly changes: VoteChange[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly sub: { unsubscribe(): void };

  constructor(client: PollMastersClient) {
    this.sub = client.polls.updates.subscribe(
      { snapshot: false },
      {
        onData: ({ data }) => {
          if (data.type !== 'votes') return;
          for (const poll of data.polls) this.changes.push(...poll.changes);
          for (const listener of this.listeners) listener();
        },
      },
    );
  }

  /** Resolves once at least `count` changes arrived; rejects after `timeoutMs`. */
  atLeast(count: number, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.changes.length < count) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`only ${this.changes.length} of ${count} vote changes arrived`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  close(): void {
    this.sub.unsubscribe();
  }
}

/** A vote the network cast, as far as `missingAcked` reads it (a `LedgerVote`). */
export interface Cast {
  pollId: string;
  voterId: string;
  selectedOptions: readonly string[];
  senderTimestampMs: number;
}

/**
 * The acknowledged votes a set of polls fails to hold: for each voter, their newest
 * acknowledged change must be there, or something newer. A voter left out is newer only when
 * they withdrew after it: `casts` (what the network cast, before the kill) must hold that
 * withdrawal. The worker announces a vote once stored, but the kill may come before a client
 * hears of it: the withdrawal stored after a vote the client saw is a legitimate absence.
 */
export const missingAcked = (
  polls: readonly Poll[],
  changes: readonly VoteChange[],
  casts: readonly Cast[],
): string[] => {
  const newest = new Map<string, VoteChange>();
  for (const c of changes) {
    const key = `${c.pollId}/${c.voter}`;
    const known = newest.get(key);
    if (!known || c.version > known.version) newest.set(key, c);
  }
  const withdrawn = new Map<string, number>();
  for (const c of casts) {
    if (c.selectedOptions.length > 0) continue;
    const key = `${c.pollId}/${c.voterId}`;
    withdrawn.set(key, Math.max(withdrawn.get(key) ?? 0, c.senderTimestampMs));
  }
  const byId = new Map(polls.map((p) => [p.id, p]));
  const missing: string[] = [];
  for (const [key, change] of newest) {
    const stored = byId.get(change.pollId)?.voters.find((v) => v.voter === change.voter);
    if (change.selected.length === 0) {
      if (stored && stored.timestampMs <= change.timestampMs) missing.push(`${key} (withdrawn)`);
    } else if (!stored) {
      if ((withdrawn.get(key) ?? 0) <= change.timestampMs) missing.push(key);
    } else if (stored.timestampMs < change.timestampMs) {
      missing.push(key);
    } else if (
      stored.timestampMs === change.timestampMs &&
      stored.selected.join() !== change.selected.join()
    ) {
      missing.push(`${key} (other selection)`);
    }
  }
  return missing;
};
