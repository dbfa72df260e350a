import type { Logger, Poll, PollTracking, VoteRejection } from '@pollmasters/shared';
import type { WorkerEvent } from '@pollmasters/shared/node';
import { proto, type WAMessage } from '@whiskeysockets/baileys';
import { EarlyVoteKeeper } from './earlyVoteKeeper.js';
import { MessageBatches } from './messageBatches.js';
import type { ChatStore } from './store/chatStore.js';
import type { EarlyVoteStore } from './store/earlyVotes.js';
import type { NewPoll, PollStore } from './store/pollStore.js';
import type { Identity } from './votes/identity.js';
import { parsePollCreation } from './votes/pollMessage.js';
import { rejection } from './votes/rejection.js';
import { VoteProcessor } from './votes/voteProcessor.js';
import type { WebhookOutbox } from './webhooks/outbox.js';
import { pollVoteData } from './webhooks/voteEvent.js';
import { VoteTally } from './webhooks/voteTally.js';

export interface SessionPollsDeps {
  polls: PollStore;
  chats: ChatStore;
  earlyVotes: EarlyVoteStore;
  tracking: PollTracking;
  identity: Identity;
  emit: (event: WorkerEvent) => void;
  /** Runs a task after those queued before it: the order in which the session handles events. */
  serial: (task: () => void | Promise<void>) => void;
  logger: Logger;
  /** Where the events for the session's webhooks are written (none: no webhooks). */
  webhooks?: WebhookOutbox;
  /** Votes that may wait for a transaction before a live batch waits for its commit. */
  maxUncommitted?: number;
}

/**
 * The polls of a session and the votes on them, as WhatsApp's messages bring them: poll
 * creations that the session tracks (ours, sent here or elsewhere; other members' when
 * configured) are stored and announced once, with the votes that waited for them; votes go to
 * the vote processor in the order they came, or wait for their poll (./earlyVoteKeeper.ts),
 * and are stored batch by batch (./messageBatches.ts).
 */
export class SessionPolls {
  private readonly votes: VoteProcessor;
  private readonly early: EarlyVoteKeeper;
  private readonly batches: MessageBatches;
  /** Ids of the votes this session sent, newest last (bounded): their echoes are duplicates. */
  private readonly sentVotes = new Set<string>();

  constructor(private readonly deps: SessionPollsDeps) {
    const onRejected = (vote: VoteRejection) => {
      deps.logger.warn({ rejection: vote }, 'vote rejected');
      this.rejected(vote);
    };
    const { webhooks, polls } = deps;
    const tally = new VoteTally();
    this.votes = new VoteProcessor(
      deps.polls,
      deps.chats,
      deps.identity,
      {
        votes: (changes) => deps.emit({ type: 'votes', changes }),
        rejected: onRejected,
        // The event is built now (the tally after this very vote) and stored with the vote.
        accepted: (poll, { change, previous, replaced, versionBefore }, voter) => {
          if (!webhooks?.wants('poll.vote')) return;
          const { version, selected } = change;
          const counts = tally.after(poll, { versionBefore, version, replaced, selected });
          const data = pollVoteData(poll, change, previous, voter, counts);
          polls.commitWithVotes(() => webhooks.write('poll.vote', data));
        },
      },
      deps.logger,
    );
    this.early = new EarlyVoteKeeper({
      store: deps.earlyVotes,
      limits: {
        max: deps.tracking.earlyVotesMax,
        maxAgeMs: deps.tracking.earlyVoteMaxAgeSec * 1000,
      },
      rejected: onRejected,
      report: (report) => deps.emit({ type: 'earlyVotes', ...report }),
      serial: deps.serial,
      logger: deps.logger,
    });
    this.batches = new MessageBatches({
      votes: this.votes,
      early: this.early,
      polls: deps.polls,
      onMessage: (msg) => this.onMessage(msg),
      logger: deps.logger,
      ...(deps.maxUncommitted === undefined ? {} : { maxUncommitted: deps.maxUncommitted }),
    });
  }

  all(): Poll[] {
    return this.deps.polls.all();
  }

  /** A page of the stored polls by id (./store/pollStore.ts `page`). */
  page(after: string | null, maxVoters: number): { polls: Poll[]; next: string | null } {
    return this.deps.polls.page(after, maxVoters);
  }

  /**
   * At start: gives up the early votes that waited too long while the worker was down, applies
   * those whose poll is stored (it came just before a crash), and reports what waits.
   */
  start(): void {
    this.deps.serial(async () => {
      this.early.expire();
      try {
        for (const pollId of this.early.pollIds()) {
          if (this.deps.polls.get(pollId)) await this.applyEarly(pollId);
        }
      } finally {
        await this.batches.endBatch(true);
      }
    });
  }

  /** One batch of messages, in order; its votes are stored before it resolves. */
  onMessages(messages: readonly WAMessage[]): Promise<void> {
    return this.batches.stored(messages);
  }

  /**
   * One batch of live messages from the socket, in order: resolves once its commit is queued,
   * or once it is stored while too many votes wait for theirs (./messageBatches.ts `live`).
   */
  onLive(messages: readonly WAMessage[]): Promise<void> {
    return this.batches.live(messages);
  }

  /**
   * The messages of a history sync: poll creations with the votes the phone already decrypted
   * (each message's `pollUpdates`); any other poll message as if it came live.
   */
  async onHistory(messages: readonly WAMessage[]): Promise<void> {
    try {
      for (const msg of messages) {
        if (!msg.pollUpdates?.length || VoteProcessor.pollUpdateOf(msg)) {
          const pending = this.onMessage(msg);
          if (pending) await pending;
          continue;
        }
        const pollId = await this.received(msg);
        if (!pollId) continue;
        for (const update of msg.pollUpdates) {
          const pending = this.votes.handleDecrypted(pollId, update);
          if (pending) await pending;
        }
      }
    } finally {
      await this.batches.endBatch();
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

  /**
   * Stores a poll this session just sent (the message `sendMessage` returned) and announces it;
   * returns the poll (known already when its echo came first) once stored. Votes that waited
   * for it are applied in the session's order of events.
   */
  async record(msg: WAMessage): Promise<Poll | null> {
    const { polls } = this.deps;
    const known = msg.key.id ? polls.get(msg.key.id) : undefined;
    // Its echo may have come first: answered once that one is stored.
    if (known) {
      await polls.whenStored(known.id);
      return polls.toPoll(known);
    }
    const parsed = parsePollCreation(msg, this.deps.identity.me());
    if (!parsed?.creator.fromMe) return null;
    let poll = await this.store(parsed);
    if (!poll) {
      await polls.whenStored(parsed.id);
      poll = polls.toPoll(polls.get(parsed.id)!);
    }
    this.deps.serial(async () => {
      try {
        await this.applyEarly(parsed.id);
      } finally {
        await this.batches.endBatch();
      }
    });
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

  /** Stores every accepted vote now (once stored: a promise on PostgreSQL). */
  flush(): Promise<void> | undefined {
    return this.votes.flush();
  }

  /** Another account may log in next: forget what the old one's mapping said. */
  forgetMappings(): void {
    this.votes.forgetMappings();
  }

  /** Stores pending votes; stops the expiry timer. */
  close(): Promise<void> | undefined {
    this.early.close();
    return this.votes.close();
  }

  /** One message: a promise only when it must wait (a poll to store, a mapping to look up). */
  private onMessage(msg: WAMessage): Promise<unknown> | undefined {
    const update = VoteProcessor.pollUpdateOf(msg);
    if (!update) return this.received(msg);
    if (this.isEcho(msg)) {
      this.deps.logger.debug({ messageId: msg.key.id }, 'own vote echoed; already counted');
      return undefined;
    }
    const key = update.pollCreationMessageKey;
    if (key?.id && !this.deps.polls.get(key.id) && VoteProcessor.hasVote(update)) {
      this.beforeItsPoll(msg, key.id, key.fromMe);
      return undefined;
    }
    return this.votes.handle(msg, update);
  }

  /**
   * A vote on a poll not stored: it waits for its poll, unless its poll is another member's
   * (the vote's poll key says so) and the session tracks only its own, which can never come.
   */
  private beforeItsPoll(msg: WAMessage, pollId: string, pollFromMe: boolean | null | undefined) {
    if (pollFromMe === false && this.deps.tracking.trackPolls === 'own') {
      const ids = { pollId, chatId: msg.key.remoteJid, messageId: msg.key.id };
      const detail = "the poll is another member's, and this session tracks only its own polls";
      const untracked = rejection('untracked_poll', detail, ids);
      this.deps.logger.debug({ rejection: untracked }, 'vote on an untracked poll');
      this.rejected(untracked);
      return;
    }
    this.early.park(pollId, msg);
  }

  /**
   * A poll creation that came from WhatsApp: stored if the session tracks it, then the votes
   * that waited for it are applied. Returns its id when it is tracked (stored now or before).
   */
  private async received(msg: WAMessage): Promise<string | undefined> {
    const { polls, tracking } = this.deps;
    if (msg.key.id && polls.get(msg.key.id)) return msg.key.id;
    const parsed = parsePollCreation(msg, this.deps.identity.me());
    if (!parsed) return undefined;
    if (!parsed.creator.fromMe) {
      if (tracking.trackPolls !== 'all') {
        this.deps.logger.debug({ pollId: parsed.id }, "another member's poll; not tracked");
        return undefined;
      }
      await this.canonicalCreator(parsed);
    }
    await this.store(parsed);
    await this.applyEarly(parsed.id);
    return parsed.id;
  }

  /** Another member's poll names them by PN, LID or both: the mapping may give the other. */
  private async canonicalCreator(poll: NewPoll): Promise<void> {
    const named = poll.creatorJids.map((jid) => ({ jid }));
    const { id, aliases } = await this.votes.people.of(poll.creator.jid, named);
    poll.creator.jid = id;
    for (const jid of [id, ...aliases])
      if (!poll.creatorJids.includes(jid)) poll.creatorJids.push(jid);
  }

  /** A rejected vote: announced, and written for the webhooks in a transaction of its own. */
  private rejected(vote: VoteRejection): void {
    this.deps.emit({ type: 'voteRejected', rejection: vote });
    this.deps.webhooks?.writeNow('poll.vote.rejected', {
      reason: vote.reason,
      detail: vote.detail,
      pollId: vote.pollId ?? null,
      chatId: vote.chatId ?? null,
      messageId: vote.messageId ?? null,
    });
  }

  /**
   * Stores a new poll and announces it (the poll as announced); nothing for a known one. Its
   * `poll.sent` webhook event is written in the poll's transaction.
   */
  private async store(parsed: NewPoll): Promise<Poll | undefined> {
    const { polls, webhooks } = this.deps;
    const alongside = webhooks?.wants('poll.sent')
      ? (stored: Parameters<typeof polls.toPoll>[0]) =>
          webhooks.write('poll.sent', polls.toPoll(stored))
      : undefined;
    const added = polls.add(parsed, alongside);
    if (!(added instanceof Promise ? await added : added)) return undefined;
    const poll = polls.toPoll(polls.get(parsed.id)!);
    const { id: pollId, chatId, creator } = parsed;
    this.deps.logger.info({ pollId, chatId, fromMe: creator.fromMe }, 'poll stored');
    this.deps.emit({ type: 'pollSent', poll });
    return poll;
  }

  /**
   * The votes that waited for a poll now stored, in the order they came: each through the
   * same path as a vote that comes now, forgotten in the transaction that stores its outcome.
   */
  private async applyEarly(pollId: string): Promise<void> {
    const waiting = this.early.waitingFor(pollId);
    for (const early of waiting instanceof Promise ? await waiting : waiting) {
      // Queued first: a flush that its own vote sets off then commits both together.
      this.deps.polls.commitWithVotes(() => this.early.handled(early.seq));
      const pending = this.votes.handle(early.msg);
      if (pending) await pending;
    }
  }

  private isEcho(msg: WAMessage): boolean {
    return !!msg.key.fromMe && !!msg.key.id && this.sentVotes.has(msg.key.id);
  }
}

/**
 * Sent vote ids remembered for echoes. An echo of an older own vote beyond these (or after a
 * restart) is still not counted twice: it is older than the stored vote, hence stale.
 */
const MAX_SENT_VOTES = 1_000;
