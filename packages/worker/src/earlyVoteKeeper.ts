import type { EarlyVoteReport, Logger, VoteRejection } from '@pollmasters/shared';
import type { WAMessage } from '@whiskeysockets/baileys';
import type { EarlyVote, EarlyVoteStore } from './store/earlyVotes.js';
import { rejection, type VoteIds } from './votes/rejection.js';

export interface EarlyVoteKeeperDeps {
  store: EarlyVoteStore;
  /** `max` votes kept at most; each kept at most `maxAgeMs`. */
  limits: { max: number; maxAgeMs: number };
  rejected(rejection: VoteRejection): void;
  report(report: EarlyVoteReport): void;
  /** Runs a task after those queued before it: the order in which the session handles events. */
  serial(task: () => void | Promise<void>): void;
  logger: Logger;
  now?: () => number;
}

/** setTimeout's longest delay. */
const MAX_DELAY_MS = 2_147_483_647;

/**
 * Early votes: votes that came before their poll (history sync, delivery out of order, a poll
 * from the phone while we were down). They wait in SQLite, so a restart loses none, until
 * their poll arrives (the caller applies them then) or they are given up: after `maxAgeMs`
 * (a timer set for the oldest one), or as the oldest when `max` are waiting. Only a vote given
 * up is rejected as `unknown_poll`. What changed is reported (`report`), at most once a batch.
 */
export class EarlyVoteKeeper {
  private timer: NodeJS.Timeout | undefined;
  private expired = { age: 0, limit: 0 };
  private changed = false;
  private readonly now: () => number;

  constructor(private readonly deps: EarlyVoteKeeperDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** How many wait. */
  get size(): number {
    return this.deps.store.size;
  }

  /** Keeps a vote for the unknown poll `pollId`; with `max` waiting, the oldest is given up. */
  park(pollId: string, msg: WAMessage): void {
    const { store, limits } = this.deps;
    if (limits.max === 0) {
      const ids = { pollId, chatId: msg.key.remoteJid, messageId: msg.key.id };
      this.giveUp([ids], 'limit');
      return;
    }
    const over = store.size + 1 - limits.max;
    if (over > 0) this.giveUp(store.takeOldest(over), 'limit');
    store.add(pollId, msg, this.now());
    this.changed = true;
    this.deps.logger.debug({ pollId, messageId: msg.key.id }, 'early vote kept for its poll');
    this.schedule();
  }

  /** The votes waiting for `pollId`, in arrival order. */
  waitingFor(pollId: string): EarlyVote[] | Promise<EarlyVote[]> {
    return this.deps.store.forPoll(pollId);
  }

  /** Polls that votes wait for. */
  pollIds(): string[] {
    return this.deps.store.pollIds();
  }

  /** Forgets an early vote now handled; called inside the transaction that stores its outcome. */
  handled(seq: number): void {
    this.deps.store.remove(seq);
    this.changed = true;
  }

  /** Gives up the votes that waited `maxAgeMs`, and sets the timer for the next. */
  expire(): void {
    const { store, limits } = this.deps;
    this.giveUp(store.takeArrivedBefore(this.now() - limits.maxAgeMs), 'age');
    this.schedule();
  }

  /** Reports the early votes if they changed since the last report (or always, `force`). */
  report(force = false): void {
    if (!this.changed && !force) return;
    this.deps.report({ waiting: this.size, expired: this.expired });
    this.expired = { age: 0, limit: 0 };
    this.changed = false;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private giveUp(rows: VoteIds[], cause: 'age' | 'limit') {
    if (rows.length === 0) return;
    const { limits } = this.deps;
    const detail =
      cause === 'age'
        ? `no poll with this id arrived within ${limits.maxAgeMs / 1000} s of the vote`
        : limits.max === 0
          ? 'no poll with this id is stored, and early votes are not kept (earlyVotesMax 0)'
          : `no poll with this id arrived before ${limits.max} later early votes pushed it out`;
    for (const row of rows) this.deps.rejected(rejection('unknown_poll', detail, row));
    this.expired[cause] += rows.length;
    this.changed = true;
  }

  /** A timer for when the oldest waiting vote is due, unless one is set or none waits. */
  private schedule(): void {
    if (this.timer) return;
    const oldest = this.deps.store.oldestArrival();
    if (oldest === undefined) return;
    const delay = Math.min(
      Math.max(0, oldest + this.deps.limits.maxAgeMs - this.now() + 1),
      MAX_DELAY_MS,
    );
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.deps.serial(() => {
        this.expire();
        this.report();
      });
    }, delay);
    // The worker's channel keeps its thread alive; this timer must not.
    this.timer.unref();
  }
}
