import type { Logger, VoteChange, VoteRejection, VoteRejectionReason } from '@pollmasters/shared';
import {
  normalizeMessageContent,
  type proto,
  toNumber,
  type WAMessage,
} from '@whiskeysockets/baileys';
import type { ChatStore } from '../store/chatStore.js';
import type { PollStore, StoredPoll, VoteOutcome } from '../store/pollStore.js';
import { logVotesNotStored } from '../store/votesNotStored.js';
import {
  type Candidate,
  type DecryptedVote,
  decryptVote,
  firstPair,
  type PollKeys,
  voterCandidates,
} from './decrypt.js';
import type { Identity } from './identity.js';
import { OpenedAhead } from './openedAhead.js';
import { type Canonical, PersonIds } from './personIds.js';
import { rejection, type VoteIds } from './rejection.js';
import { voteCipher } from './voteCipher.js';

export interface VoteSink {
  /** Accepted votes, stored, in order. */
  votes(changes: VoteChange[]): void;
  rejected(rejection: VoteRejection): void;
  /**
   * A vote just accepted (queued, not stored yet), with the poll's state after it: for what
   * must be written in the same transaction as the vote (its webhook event).
   */
  accepted?(
    poll: StoredPoll,
    outcome: Extract<VoteOutcome, { kind: 'accepted' }>,
    voter: Canonical,
  ): void;
}

/** A vote as it reached us, whichever way it came: what storing or rejecting it needs. */
interface Arrival {
  pollId: string;
  chatId: string | undefined;
  messageId: string | undefined;
  timestampMs: number;
  fromMe: boolean;
  pushName: string | undefined;
  /** Part of a history sync: a state the phone kept, not a message that came now. */
  history: boolean;
}

/**
 * Turns poll update messages into stored votes: decrypt (trying each creator/voter pair),
 * pick one canonical voter per person, replace or ignore by timestamp, queue the write, and
 * flush in batches so that each batch is one transaction and one event. Votes that WhatsApp
 * already decrypted (a history sync's `pollUpdates`) take the same decisions without the
 * decryption.
 */
export class VoteProcessor {
  /** One id per person (voters, and the creators of other members' polls). */
  readonly people: PersonIds;
  /** The votes `openAhead` opened, in message order, until `handle` takes them. */
  private readonly ahead = new OpenedAhead();

  constructor(
    private readonly polls: PollStore,
    private readonly chats: ChatStore,
    private readonly identity: Identity,
    private readonly sink: VoteSink,
    private readonly logger: Logger,
    private readonly maxBatch = 2_000,
    /** How long a mapping lookup that found nothing is believed (see `mappingChanged`). */
    mappingMissMs = 10_000,
  ) {
    this.people = new PersonIds(identity, mappingMissMs);
    // A failed commit retried by the store's timer (PostgreSQL) is announced once stored.
    polls.announceRetried((changes) => sink.votes(changes));
  }

  /** The poll vote a message carries, if it carries one. */
  static pollUpdateOf(msg: WAMessage): proto.Message.IPollUpdateMessage | undefined {
    return normalizeMessageContent(msg.message)?.pollUpdateMessage ?? undefined;
  }

  /** Whether a poll update carries an encrypted vote (else it is malformed). */
  static hasVote(update: proto.Message.IPollUpdateMessage): boolean {
    return !!(update.vote?.encPayload?.length && update.vote.encIv?.length);
  }

  /**
   * Opens the votes among `messages[from, to)` in one call to the cipher, each with the pair
   * `decryptVote` would try first (the chat's hinted one): `handle` then finds them opened.
   * Only the decryption moves earlier; every decision is still `handle`'s, in message order,
   * and a vote that pair does not open is left to `handle`'s search of the other pairs. Called
   * for a few dozen messages at a time: what it opens lives until handled, and a whole event's
   * worth would outlive young-generation collections. With node:crypto (no addon) a batch
   * costs what its votes cost one by one, and nothing is done.
   */
  openAhead(messages: readonly WAMessage[], from = 0, to = messages.length): void {
    const { ahead } = this;
    ahead.clear();
    if (Math.min(to, messages.length) - from < 2 || voteCipher().name !== 'native') return;
    const me = this.identity.me();
    for (let i = from; i < to && i < messages.length; i++) {
      const msg = messages[i]!;
      const update = VoteProcessor.pollUpdateOf(msg);
      if (!update?.vote || !VoteProcessor.hasVote(update)) continue;
      const poll = this.polls.get(update.pollCreationMessageKey?.id ?? '');
      if (!poll?.secret) continue;
      const keys = keysOf(poll, poll.secret);
      const voters = voterCandidates(msg.key, me);
      const pair = firstPair(keys, voters, this.chats.hint(poll.chatId));
      if (pair) ahead.add(msg, update.vote, keys, voters, pair.creatorIndex, pair.voter);
    }
    ahead.open();
  }

  /**
   * Handles one vote message (`update`: its poll update, when the caller has it already).
   * Synchronous unless something must be looked up (an identity mapping not yet cached, or our
   * own other JID): then it returns the promise to await before the next message.
   */
  handle(msg: WAMessage, update = VoteProcessor.pollUpdateOf(msg)): Promise<void> | undefined {
    const enc = update?.vote;
    const pollId = update?.pollCreationMessageKey?.id ?? undefined;
    if (!update || !pollId || !enc || !VoteProcessor.hasVote(update)) {
      const detail = 'the poll update has no poll key or no encrypted vote';
      return this.reject('malformed', detail, idsOf(msg, pollId));
    }
    const poll = this.polls.get(pollId);
    if (!poll) {
      return this.reject('unknown_poll', 'no poll with this id is stored', idsOf(msg, pollId));
    }
    if (!poll.secret) {
      const detail = 'the poll was stored without its message secret';
      return this.reject('no_secret', detail, idsOf(msg, pollId));
    }
    const arrival: Arrival = {
      pollId,
      chatId: msg.key.remoteJid ?? undefined,
      messageId: msg.key.id ?? undefined,
      // Timestamps may be protobuf Longs (decoded messages) or numbers: toNumber reads both.
      timestampMs: toNumber(update.senderTimestampMs) || toNumber(msg.messageTimestamp) * 1000,
      fromMe: msg.key.fromMe === true,
      pushName: msg.pushName ?? undefined,
      history: false,
    };

    const ahead = this.ahead.take(msg);
    const voters = ahead?.voters ?? voterCandidates(msg.key, this.identity.me());
    const opened =
      ahead?.decrypted ??
      decryptVote(enc, keysOf(poll, poll.secret), voters, this.chats.hint(poll.chatId), ahead);
    if (opened) return this.accept(arrival, poll, voters, opened);
    // Our poll may have been stored before we knew our own LID (or PN): learn it now.
    const learning = poll.creator.fromMe ? this.ownJidsMissingFrom(poll.creatorJids) : NOTHING;
    return learning.then((learnt) => {
      let retried: DecryptedVote | null = null;
      if (learnt.length) {
        const creatorJids = [...poll.creatorJids, ...learnt];
        const { hashes } = poll.selections;
        retried = decryptVote(
          enc,
          { id: poll.id, secret: poll.secret!, creatorJids, hashes },
          voters,
        );
        if (retried) this.polls.setCreatorJids(poll.id, creatorJids);
      }
      if (!retried) {
        return this.reject(
          'no_pair_authenticates',
          `no creator/voter pair authenticates (${poll.creatorJids.length} creators x ${voters.length} voters tried)`,
          idsOf(msg, pollId),
        );
      }
      return this.accept(arrival, poll, voters, retried);
    });
  }

  /**
   * A vote the phone already decrypted, from a history message's `pollUpdates` on a stored
   * poll: its key names the voter (`fromMe`: us; else the group participant, or the direct
   * chat), its selection is plaintext option hashes. An older one than the voter's stored
   * vote is old news, not a rejection.
   */
  handleDecrypted(pollId: string, pollUpdate: proto.IPollUpdate): Promise<void> | undefined {
    const key = pollUpdate.pollUpdateMessageKey ?? {};
    const poll = this.polls.get(pollId);
    const ids = { pollId, chatId: poll?.chatId, messageId: key.id };
    if (!poll) return this.reject('unknown_poll', 'no poll with this id is stored', ids);
    const voters = voterCandidates(key, this.identity.me());
    const signer = voters[0];
    if (!signer) return this.reject('malformed', 'the history vote names no voter', ids);
    const selected = (pollUpdate.vote?.selectedOptions ?? []).map((h) =>
      Buffer.from(h).toString('hex'),
    );
    const arrival: Arrival = {
      pollId,
      chatId: poll.chatId,
      messageId: key.id ?? undefined,
      timestampMs: toNumber(pollUpdate.senderTimestampMs) || toNumber(pollUpdate.serverTimestampMs),
      fromMe: key.fromMe === true,
      pushName: undefined,
      history: true,
    };
    const canonical = this.people.of(signer.jid, voters);
    if (canonical instanceof Promise) {
      return canonical.then((c) => this.store(arrival, poll, selected, c));
    }
    return this.store(arrival, poll, selected, canonical);
  }

  /** A decrypted vote: find the canonical voter (cached, or looked up), then store it. */
  private accept(
    arrival: Arrival,
    poll: StoredPoll,
    voters: readonly Candidate[],
    decrypted: DecryptedVote,
  ): Promise<void> | undefined {
    this.chats.rememberPair(poll.chatId, decrypted.creatorIndex, decrypted.voter.source);
    const canonical = this.people.of(decrypted.voter.jid, voters);
    if (canonical instanceof Promise) {
      return canonical.then((c) => this.store(arrival, poll, decrypted.selected, c));
    }
    return this.store(arrival, poll, decrypted.selected, canonical);
  }

  private store(
    arrival: Arrival,
    poll: StoredPoll,
    hashes: readonly string[],
    { id: voter, aliases }: Canonical,
  ): undefined {
    const { messageId, timestampMs } = arrival;
    const { selected, unknown } = poll.selections.split(hashes);
    const name = this.chats.nameOf(voter) ?? (arrival.fromMe ? undefined : arrival.pushName);
    const outcome = this.polls.applyVote(
      poll.id,
      { voter, name, selected, timestampMs, messageId },
      unknown,
      aliases,
    );
    if (outcome.kind === 'stale') {
      const detail = `older than the stored vote of this voter (${timestampMs} < ${outcome.current.timestampMs})`;
      if (!arrival.history) return this.reject('stale', detail, arrival);
      this.logger.debug({ pollId: poll.id, messageId }, `history vote ${detail}`);
      return undefined;
    }
    if (outcome.kind === 'duplicate') {
      this.logger.debug({ pollId: poll.id, messageId }, 'vote delivered again; already counted');
      return undefined;
    }
    this.sink.accepted?.(poll, outcome, { id: voter, aliases });
    if (this.polls.pendingWrites >= this.maxBatch) {
      // On PostgreSQL the batch commits while the next one fills; endBatch waits for both.
      this.flush()?.catch(logVotesNotStored(this.logger));
    }
    return undefined;
  }

  private reject(reason: VoteRejectionReason, detail: string, ids: VoteIds): undefined {
    this.sink.rejected(rejection(reason, detail, ids));
    return undefined;
  }

  /**
   * Ends a batch of WhatsApp events: its votes (and what else waits to be written with them)
   * are stored and announced now, one transaction, one event. Baileys has acknowledged them to
   * WhatsApp already, so every moment they wait is one in which a crash would lose them.
   */
  endBatch(): Promise<void> | undefined {
    return this.polls.hasPendingWrites ? this.flush() : undefined;
  }

  /** Stores every queued vote and announces it (once stored: a promise on PostgreSQL). */
  flush(): Promise<void> | undefined {
    const changes = this.polls.flush();
    if (changes instanceof Promise) {
      return changes.then((stored) => {
        if (stored.length) this.sink.votes(stored);
      });
    }
    if (changes.length) this.sink.votes(changes);
    return undefined;
  }

  close(): Promise<void> | undefined {
    return this.flush();
  }

  /** Our own PN and LID (normalised; looked up through the mapping when one is unknown). */
  private async ownJidsMissingFrom(known: readonly string[]): Promise<string[]> {
    const me = this.identity.me();
    const pn = me.pn ?? (me.lid ? await this.identity.pnForLid(me.lid) : undefined);
    const lid = me.lid ?? (me.pn ? await this.identity.lidForPn(me.pn) : undefined);
    return [pn, lid].filter((j): j is string => !!j && !known.includes(j));
  }

  /** See `PersonIds.mappingChanged`. */
  mappingChanged(): void {
    this.people.mappingChanged();
  }

  /** Forgets every cached mapping (after a logout: another account, another mapping). */
  forgetMappings(): void {
    this.people.forget();
  }
}

const NOTHING: Promise<string[]> = Promise.resolve([]);

/** What decryption needs of a stored poll (with its secret, checked by the caller). */
const keysOf = (poll: StoredPoll, secret: Uint8Array): PollKeys => ({
  id: poll.id,
  secret,
  creatorJids: poll.creatorJids,
  hashes: poll.selections.hashes,
});

/** What a rejection names of a vote message (made only for a rejection). */
const idsOf = (msg: WAMessage, pollId: string | undefined): VoteIds => ({
  pollId,
  chatId: msg.key.remoteJid,
  messageId: msg.key.id,
});
