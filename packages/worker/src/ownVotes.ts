import {
  ErrorCode,
  errors,
  type OwnVote,
  PollMastersError,
  type VotePollInput,
  type VotePollResult,
} from '@pollmasters/shared';
import {
  generateMessageIDV2,
  isJidGroup,
  type proto,
  type WAMessage,
} from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import type { ChatList } from './chatList.js';
import type { SessionPolls } from './sessionPolls.js';
import type { PollSocket } from './socket.js';
import type { ChatStore } from './store/chatStore.js';
import type { PollStore, StoredPoll } from './store/pollStore.js';
import { encryptVote } from './votes/encryptVote.js';
import type { Identity, OwnJids } from './votes/identity.js';
import { resolveSelection } from './votes/ownSelection.js';
import { ownVoteSigning, type VoteSigning } from './votes/ownSigning.js';

export interface OwnVotesDeps {
  polls: PollStore;
  /** The chats' pair hints. */
  chats: ChatStore;
  /** The chats' addressing modes. */
  chatList: ChatList;
  sessionPolls: SessionPolls;
  identity: Identity;
  /** Runs a task in turn with WhatsApp's events: after those before it, before those after. */
  inOrder: (task: () => Promise<void>) => Promise<void>;
  logger: Logger;
}

/** WhatsApp marks a poll update stanza as a vote with this child node (as whatsmeow does). */
const VOTE_META = [{ tag: 'meta', attrs: { polltype: 'vote' } }];

/**
 * The account's own votes: checks the selection against the stored poll, encrypts it with
 * the poll's secret for the JIDs the members will try (./votes/ownSigning.ts), sends it as a
 * poll update, and counts it once as the account's vote, through the path a received vote
 * takes. One vote at a time, so that each is newer than the one before.
 */
export class OwnVotes {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: OwnVotesDeps) {}

  /**
   * Casts the account's vote (`options` empty: withdraws it). Nothing is sent when the poll is
   * unknown (NOT_FOUND), the selection does not fit it (BAD_INPUT), or `socket` throws
   * (NOT_READY).
   */
  vote(input: VotePollInput, socket: () => PollSocket): Promise<VotePollResult> {
    const run = this.queue.then(() => this.cast(input, socket));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async cast(input: VotePollInput, socket: () => PollSocket): Promise<VotePollResult> {
    const { polls, identity } = this.deps;
    const poll = polls.get(input.pollId);
    if (!poll) throw errors.notFound(`poll ${input.pollId}`);
    const selected = resolveSelection(poll, input.options);
    const sock = socket();
    if (!poll.secret) {
      throw errors.conflict(
        'the poll was stored without its message secret: it cannot be voted on',
      );
    }
    // As the account knows itself, no lookup: its own copy of the vote must decrypt as ours.
    const me = identity.me();
    const signing = ownVoteSigning({
      creatorJids: poll.creatorJids,
      me,
      lidAddressed: this.deps.chatList.isLidAddressed(poll.chatId),
      hint: this.deps.chats.hint(poll.chatId),
    });
    if (!signing) {
      throw new PollMastersError(
        ErrorCode.NOT_READY,
        "the account's own JIDs or the poll's creator are not known yet",
      );
    }

    // Newer than the account's stored vote, or members (and we) would take it as stale.
    const previous = ownVoteOf(poll, me)?.timestampMs ?? 0;
    const senderTimestampMs = Math.max(Date.now(), previous + 1);
    const message = this.pollUpdate(poll, me, signing, selected, senderTimestampMs);
    const messageId = generateMessageIDV2(sock.user?.id);
    try {
      await sock.relayMessage(poll.chatId, message, { messageId, additionalNodes: VOTE_META });
    } catch (err) {
      throw errors.sendFailed(`WhatsApp did not accept the vote: ${(err as Error).message}`, err);
    }
    this.deps.logger.info(
      { pollId: poll.id, chatId: poll.chatId, messageId, options: selected.length },
      selected.length ? 'own vote sent' : 'own vote withdrawn',
    );

    const sent: WAMessage = {
      key: {
        remoteJid: poll.chatId,
        fromMe: true,
        id: messageId,
        ...(isJidGroup(poll.chatId) ? { participant: signing.voterJid } : {}),
      },
      message,
      messageTimestamp: Math.floor(senderTimestampMs / 1000),
    };
    await this.deps.inOrder(() => this.deps.sessionPolls.recordSent(sent));
    const stored = polls.get(poll.id);
    const counted = stored && ownVoteOf(stored, me);
    if (!stored || counted?.timestampMs !== senderTimestampMs) {
      throw new PollMastersError(
        ErrorCode.INTERNAL,
        `the vote was sent (message ${messageId}) but could not be counted: see the rejected vote`,
      );
    }
    const vote: OwnVote = {
      voter: counted.voter,
      selected: [...counted.selected],
      timestampMs: senderTimestampMs,
      messageId,
    };
    return { vote, poll: polls.toPoll(stored) };
  }

  private pollUpdate(
    poll: StoredPoll,
    me: OwnJids,
    signing: VoteSigning,
    selected: readonly string[],
    senderTimestampMs: number,
  ): proto.IMessage {
    const vote = encryptVote(selected, {
      pollMsgId: poll.id,
      pollEncKey: poll.secret!,
      pollCreatorJid: signing.creatorJid,
      voterJid: signing.voterJid,
    });
    return {
      pollUpdateMessage: {
        pollCreationMessageKey: {
          remoteJid: poll.chatId,
          fromMe: signing.creatorJid === me.pn || signing.creatorJid === me.lid,
          id: poll.id,
          // The members' phones find a group poll by its author too.
          ...(isJidGroup(poll.chatId) ? { participant: signing.creatorJid } : {}),
        },
        vote,
        senderTimestampMs,
      },
    };
  }
}

/** The account's stored vote on a poll (under its PN or its LID), the newer if both. */
const ownVoteOf = (poll: StoredPoll, me: OwnJids) => {
  const pn = me.pn ? poll.voters.get(me.pn) : undefined;
  const lid = me.lid ? poll.voters.get(me.lid) : undefined;
  if (!pn || !lid) return pn ?? lid;
  return lid.timestampMs > pn.timestampMs ? lid : pn;
};
