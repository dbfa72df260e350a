import type { Logger } from '@pollmasters/shared';
import type { WAMessage } from '@whiskeysockets/baileys';
import type { EarlyVoteKeeper } from './earlyVoteKeeper.js';
import type { PollStore } from './store/pollStore.js';
import { logVotesNotStored } from './store/votesNotStored.js';
import type { VoteProcessor } from './votes/voteProcessor.js';

export interface MessageBatchesDeps {
  votes: VoteProcessor;
  early: EarlyVoteKeeper;
  polls: PollStore;
  /** One message: a promise only when it must wait (a poll to store, a mapping to look up). */
  onMessage: (msg: WAMessage) => Promise<unknown> | undefined;
  logger: Logger;
  /** Votes that may wait for a transaction before a live batch waits for its commit. */
  maxUncommitted?: number;
}

/**
 * A session's messages batch by batch (./sessionPolls.ts): each batch's messages handled in
 * order, then the votes it accepted stored (a commit), and a live batch held back while too
 * many votes wait for theirs.
 */
export class MessageBatches {
  constructor(private readonly deps: MessageBatchesDeps) {}

  /** One batch of messages, in order; its votes are stored before it resolves. */
  async stored(messages: readonly WAMessage[]): Promise<void> {
    const { storing } = await this.decide(messages);
    if (storing) await storing;
  }

  /**
   * One batch of live messages from the socket, in order. Resolves once its votes are decided
   * and their commit is queued, so that the session takes the next batch while that commit is
   * in flight (PostgreSQL: what arrives meanwhile commits as one transaction after it; each
   * batch is announced once stored, in order). Back-pressure: while more than
   * `maxUncommitted` votes wait to be put in a transaction, it resolves only once this batch
   * is stored, so the session takes no new batch from a stalled database.
   */
  async live(messages: readonly WAMessage[]): Promise<void> {
    const { storing } = await this.decide(messages);
    if (!storing) return;
    const logged = storing.catch(logVotesNotStored(this.deps.logger));
    if (this.deps.polls.pendingWrites > (this.deps.maxUncommitted ?? MAX_UNCOMMITTED)) {
      await logged;
    }
  }

  /** Stores the batch's votes (and reports the early votes once they are stored). */
  endBatch(forceReport = false): Promise<void> | undefined {
    const storing = this.deps.votes.endBatch();
    if (!storing) {
      this.deps.early.report(forceReport);
      return undefined;
    }
    return storing.finally(() => this.deps.early.report(forceReport));
  }

  /** Handles a batch's messages in order, then ends it: its storing, if it has one. */
  private async decide(
    messages: readonly WAMessage[],
  ): Promise<{ storing: Promise<void> | undefined }> {
    try {
      for (let i = 0; i < messages.length; i++) {
        // The next votes decrypted in one call (when the native cipher is in use).
        if (i % OPEN_AHEAD === 0) this.deps.votes.openAhead(messages, i, i + OPEN_AHEAD);
        // Usually synchronous (a vote): await only what has something to wait for.
        const pending = this.deps.onMessage(messages[i]!);
        if (pending) await pending;
      }
    } catch (err) {
      // What the batch accepted before the failure is stored all the same.
      const storing = this.endBatch();
      if (storing) await storing;
      throw err;
    }
    // WhatsApp may consider a delivered message done: store what this batch accepted now.
    return { storing: this.endBatch() };
  }
}

/**
 * Messages whose votes are opened in one call: the native cipher's gain per vote levels off
 * from about 50 (docs/performance.md, "Session 9: native AES-GCM prototype"), and the fewer
 * opened votes wait to be handled, the fewer outlive a young-generation collection.
 */
const OPEN_AHEAD = 64;

/**
 * Votes queued behind the commit in flight (PostgreSQL) beyond which a live batch waits for its
 * own commit. The commit in flight took at most as many (plus a batch): about 2 x 2,000 votes of
 * a session wait uncommitted at most, a few MB.
 */
const MAX_UNCOMMITTED = 2_000;
