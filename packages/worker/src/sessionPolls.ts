import type { Poll, WorkerEvent } from '@pollmasters/shared';
import { proto, type WAMessage } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import type { ChatStore } from './store/chatStore.js';
import type { PollStore } from './store/pollStore.js';
import type { Identity } from './votes/identity.js';
import { parsePollCreation } from './votes/pollMessage.js';
import { VoteProcessor } from './votes/voteProcessor.js';

export interface SessionPollsDeps {
  polls: PollStore;
  chats: ChatStore;
  identity: Identity;
  emit: (event: WorkerEvent) => void;
  logger: Logger;
}

/**
 * The polls of a session and the votes on them, as WhatsApp's messages bring them: poll
 * creations (ours, also as they come back) are stored and announced once, votes go to the
 * vote processor in the order they came and are stored batch by batch.
 */
export class SessionPolls {
  private readonly votes: VoteProcessor;
  /** Ids of the votes this session sent, newest last (bounded): their echoes are duplicates. */
  private readonly sentVotes = new Set<string>();

  constructor(private readonly deps: SessionPollsDeps) {
    this.votes = new VoteProcessor(
      deps.polls,
      deps.chats,
      deps.identity,
      {
        votes: (changes) => deps.emit({ type: 'votes', changes }),
        rejected: (rejection) => {
          deps.logger.warn({ rejection }, 'vote rejected');
          deps.emit({ type: 'voteRejected', rejection });
        },
      },
      deps.logger,
    );
  }

  all(): Poll[] {
    return this.deps.polls.all();
  }

  /** One batch of messages, in order; its votes are stored before it resolves. */
  async onMessages(messages: readonly WAMessage[]): Promise<void> {
    try {
      for (const msg of messages) {
        const update = VoteProcessor.pollUpdateOf(msg);
        if (update && this.isEcho(msg)) {
          this.deps.logger.debug({ messageId: msg.key.id }, 'own vote echoed; already counted');
        } else if (update) {
          // Usually synchronous: await only when the processor has something to look up.
          const pending = this.votes.handle(msg, update);
          if (pending) await pending;
        } else this.record(msg);
      }
    } finally {
      // WhatsApp may consider a delivered message done: store what this batch accepted now.
      this.votes.endBatch();
    }
  }

  /**
   * Counts a vote this session sent (as `recordOwn` in ./ownVotes.ts builds it) through the
   * same path as a received one (decrypt, canonical voter, newer wins), and stores it now.
   * From then on WhatsApp's echo of the same message is a duplicate.
   */
  async recordSent(msg: WAMessage): Promise<void> {
    await this.onMessages([msg]);
    const id = msg.key.id;
    if (!id) return;
    this.sentVotes.add(id);
    if (this.sentVotes.size > MAX_SENT_VOTES) {
      this.sentVotes.delete(this.sentVotes.values().next().value!);
    }
  }

  private isEcho(msg: WAMessage): boolean {
    return !!msg.key.fromMe && !!msg.key.id && this.sentVotes.has(msg.key.id);
  }

  /** Stores a poll creation message once and announces it; returns the poll (known or new). */
  record(msg: WAMessage): Poll | null {
    const { polls } = this.deps;
    // Known already (our own sent poll comes back as an `append`): nothing to parse again.
    const known = msg.key.id ? polls.get(msg.key.id) : undefined;
    if (known) return polls.toPoll(known);
    const parsed = parsePollCreation(msg, this.deps.identity.me());
    if (!parsed) return null;
    const added = polls.add(parsed);
    const poll = polls.toPoll(polls.get(parsed.id)!);
    if (added) {
      this.deps.logger.info({ pollId: parsed.id, chatId: parsed.chatId }, 'poll stored');
      this.deps.emit({ type: 'pollSent', poll });
    }
    return poll;
  }

  /** A poll's creation message, for Baileys' `getMessage` (to resend or decrypt against it). */
  storedMessage(id: string | null | undefined): proto.IMessage | undefined {
    const poll = id ? this.deps.polls.get(id) : undefined;
    return poll ? (proto.WebMessageInfo.decode(poll.message).message ?? undefined) : undefined;
  }

  /** WhatsApp's PN <-> LID mapping changed: lookups that found nothing may find something now. */
  mappingChanged(): void {
    this.votes.mappingChanged();
  }

  /** Stores every accepted vote now. */
  flush(): void {
    this.votes.flush();
  }

  /** Another account may log in next: forget what the old one's mapping said. */
  forgetMappings(): void {
    this.votes.forgetMappings();
  }

  /** Stores pending votes. */
  close(): void {
    this.votes.close();
  }
}

/**
 * Sent vote ids remembered for echoes. An echo of an older own vote beyond these (or after a
 * restart) is still not counted twice: it is older than the stored vote, hence stale.
 */
const MAX_SENT_VOTES = 1_000;
