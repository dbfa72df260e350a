import type { proto, WAMessage } from '@whiskeysockets/baileys';
import {
  type BurstOptions,
  type BurstResult,
  preparedProblem,
  runBurst,
  seedDigits,
  syntheticMapping,
} from './burst.js';
import type { BurstKeys, PreparedVotes, SandboxEvent } from './channel.js';
import { newMessageId } from './creations.js';
import type { Ledger, LedgerVote } from './ledger.js';
import { voteMessage } from './messages.js';
import type { SandboxOptions } from './options.js';
import { readOwnVote } from './ownVotes.js';
import { type PlannedCast, planVotes } from './plan.js';
import type { SentPoll, StoredMessage } from './store.js';
import { encryptPollVote } from './votes.js';
import {
  canonicalId,
  findChat,
  findPerson,
  type Person,
  type World,
  type WorldChat,
} from './world.js';

/** What the people need of the network they vote on (./network.ts). */
export interface PeopleHost {
  readonly world: World;
  readonly options: SandboxOptions;
  readonly ledger: Ledger;
  /** A poll this network carried. */
  poll(pollId: string): SentPoll | undefined;
  /** Keeps a message for us and hands it to our socket if one is online. */
  deliver(message: StoredMessage, vote?: LedgerVote): void;
  /** Hands messages to the socket online now, unkept; throws without one. */
  deliverNow(messages: WAMessage[]): void;
  schedule(delayMs: number, run: () => void): void;
  post(message: SandboxEvent): void;
}

/**
 * The people on the network and their votes on the polls we send: as planned for a poll's chat
 * (`autoVote`), on request, or in bursts of synthetic voters. Every cast but a burst's is
 * recorded in the ledger and posted on the sandbox channel.
 */
export class People {
  private readonly plans = new Map<string, PlannedCast[]>();
  /** Planned casts of each poll that have not happened yet. */
  private readonly unplayed = new Map<string, number>();
  /** Cast messages by `pollId/messageId`, for redeliveries. */
  private readonly sent = new Map<string, { message: StoredMessage; vote: LedgerVote }>();
  /** Seeds (as their three digits) of the bursts cast so far: their voters are mapped. */
  private readonly burstSeeds = new Set<string>();

  constructor(private readonly host: PeopleHost) {}

  /** We sent a poll: with `autoVote`, its chat's members vote as planned. */
  pollSent(poll: SentPoll): void {
    const chat = findChat(this.host.world, poll.chatId);
    if (!chat || !this.host.options.autoVote) return;
    const plan = planVotes({ chat, ...poll }, this.host.options);
    this.plans.set(poll.id, plan);
    this.unplayed.set(poll.id, plan.length);
    for (const cast of plan) {
      this.host.schedule(cast.atMs, () => {
        this.unplayed.set(poll.id, (this.unplayed.get(poll.id) ?? 1) - 1);
        this.castPlanned(poll, cast);
      });
    }
  }

  /** The vote plan of a poll (none with `autoVote` off). */
  plan(pollId: string): PlannedCast[] | undefined {
    return this.plans.get(pollId);
  }

  /** Planned casts of a poll still to come. */
  planned(pollId: string): number {
    return this.unplayed.get(pollId) ?? 0;
  }

  /** The other form of a burst voter's JID; null for anyone else. */
  burstMapping(jid: string, form: 'lid' | 's.whatsapp.net'): string | null {
    return syntheticMapping(this.burstSeeds, jid, form);
  }

  /**
   * Casts a vote now, on any poll this network carried (also one sent before a restart).
   * @throws when the poll is unknown or the voter is not in its chat.
   */
  vote(pollId: string, voterJid: string, options: readonly string[]): LedgerVote {
    const poll = this.host.poll(pollId);
    if (!poll) throw new Error(`unknown poll ${pollId}`);
    const chat = findChat(this.host.world, poll.chatId);
    const voter = findPerson(this.host.world, voterJid);
    if (!chat || !voter || !chat.members.includes(voter)) {
      throw new Error(`${voterJid} is not a member of ${poll.chatId}`);
    }
    return this.cast(poll, voter, [...options], newMessageId());
  }

  /**
   * Our account voted: the chat's members read the vote (./ownVotes.ts) and it goes to the
   * ledger as our vote; one they cannot read is posted as `undecryptable`.
   */
  receiveOwnVote(chat: WorldChat, update: proto.Message.IPollUpdateMessage, messageId: string) {
    const pollId = update.pollCreationMessageKey?.id ?? undefined;
    const reading = readOwnVote(
      this.host.world,
      chat,
      pollId ? this.host.poll(pollId) : undefined,
      update,
      messageId,
    );
    if ('vote' in reading) {
      this.host.ledger.record(reading.vote);
      this.host.post({ type: 'cast', vote: reading.vote });
      return;
    }
    this.host.post({
      type: 'undecryptable',
      chatId: chat.id,
      ...(pollId ? { pollId } : {}),
      messageId,
      problem: reading.problem,
    });
  }

  /** What a member's phone knows of a poll we sent: enough to encrypt votes on it. */
  burstKeys(pollId: string): BurstKeys {
    const { poll, chat } = this.pollAndChat(pollId);
    return {
      pollId,
      options: poll.options,
      selectableCount: poll.selectableCount,
      messageSecret: poll.messageSecret,
      creatorJid: chat.signing.creator === 'lid' ? poll.creatorLid : poll.creatorPn,
      voterForm: chat.signing.voter,
    };
  }

  /**
   * Delivers votes encrypted beforehand (`prepareVotes` in ./burst.ts, from `burstKeys`), one
   * per synthetic voter, round-robin across the polls (see `voteBurst` in ./channel.ts). Needs
   * a connection online; not recorded in the ledger.
   */
  async burst(votes: readonly PreparedVotes[], options: BurstOptions): Promise<BurstResult> {
    const pollIds = new Set(votes.map((v) => v.pollId));
    if (pollIds.size < votes.length) throw new Error('one set of prepared votes per poll');
    const targets = votes.map((v) => {
      const problem = preparedProblem(v);
      if (problem) throw new Error(`prepared votes for ${v.pollId}: ${problem}`);
      return { ...this.pollAndChat(v.pollId), votes: v };
    });
    for (const v of votes) this.burstSeeds.add(seedDigits(v.seed));
    return runBurst(targets, options, (messages) => this.host.deliverNow(messages));
  }

  private pollAndChat(pollId: string): { poll: SentPoll; chat: WorldChat } {
    const poll = this.host.poll(pollId);
    const chat = poll && findChat(this.host.world, poll.chatId);
    if (!poll || !chat) throw new Error(`unknown poll ${pollId}`);
    return { poll, chat };
  }

  private castPlanned(poll: SentPoll, cast: PlannedCast): void {
    if (cast.kind !== 'redelivery') {
      this.cast(poll, cast.voter, cast.options, cast.messageId);
      return;
    }
    const original = this.sent.get(`${poll.id}/${cast.messageId}`);
    if (!original) return;
    const vote: LedgerVote = { ...original.vote, redelivery: true };
    this.host.deliver(original.message, vote);
    this.host.ledger.record(vote);
    this.host.post({ type: 'cast', vote });
  }

  private cast(poll: SentPoll, voter: Person, options: string[], messageId: string): LedgerVote {
    const { world, ledger } = this.host;
    const chat = findChat(world, poll.chatId);
    if (!chat) throw new Error(`unknown chat ${poll.chatId}`);
    const voterId = canonicalId(voter);
    // A newer vote must carry a newer timestamp, even within one millisecond.
    const senderTimestampMs = Math.max(Date.now(), ledger.lastTimestamp(poll.id, voterId) + 1);
    const creatorJid = chat.signing.creator === 'lid' ? poll.creatorLid : poll.creatorPn;
    const voterJid = chat.signing.voter === 'lid' ? voter.lid : voter.pn;
    const encrypted = encryptPollVote(options, {
      pollMsgId: poll.id,
      pollEncKey: Buffer.from(poll.messageSecret, 'base64'),
      pollCreatorJid: creatorJid,
      voterJid,
    });
    const message = voteMessage({
      chat,
      voter,
      messageId,
      poll,
      senderTimestampMs,
      ...encrypted,
    });
    const vote: LedgerVote = {
      pollId: poll.id,
      chatId: chat.id,
      messageId,
      voterPn: voter.pn,
      voterLid: voter.lid,
      voterId,
      creatorJid,
      voterJid,
      selectedOptions: options,
      senderTimestampMs,
      redelivery: false,
    };
    this.sent.set(`${poll.id}/${messageId}`, { message, vote });
    this.host.deliver(message, vote);
    ledger.record(vote);
    this.host.post({ type: 'cast', vote });
    return vote;
  }
}
