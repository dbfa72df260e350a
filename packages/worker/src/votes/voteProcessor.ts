import type { Logger, VoteChange, VoteRejection, VoteRejectionReason } from '@pollmasters/shared';
import {
  isLidUser,
  isPnUser,
  normalizeMessageContent,
  type proto,
  toNumber,
  type WAMessage,
} from '@whiskeysockets/baileys';
import type { ChatStore } from '../store/chatStore.js';
import type { PollStore, StoredPoll } from '../store/pollStore.js';
import { type Candidate, type DecryptedVote, decryptVote, voterCandidates } from './decrypt.js';
import type { Identity } from './identity.js';

export interface VoteSink {
  /** Accepted votes, stored, in order. */
  votes(changes: VoteChange[]): void;
  rejected(rejection: VoteRejection): void;
}

/**
 * Turns poll update messages into stored votes: decrypt (trying each creator/voter pair),
 * pick one canonical voter per person, replace or ignore by timestamp, queue the write, and
 * flush in batches so that each batch is one transaction and one event.
 */
export class VoteProcessor {
  /** PN -> LID and LID -> PN, as the mapping answered (answers do not change). */
  private readonly mapped = new Map<string, string>();
  /** JIDs the mapping did not know, until when (ms) not to ask again. */
  private readonly mappingMisses = new Map<string, number>();

  constructor(
    private readonly polls: PollStore,
    private readonly chats: ChatStore,
    private readonly identity: Identity,
    private readonly sink: VoteSink,
    private readonly logger: Logger,
    private readonly maxBatch = 2_000,
    /** How long a mapping lookup that found nothing is believed (see `mappingChanged`). */
    private readonly mappingMissMs = 10_000,
  ) {}

  /** The poll vote a message carries, if it carries one. */
  static pollUpdateOf(msg: WAMessage): proto.Message.IPollUpdateMessage | undefined {
    return normalizeMessageContent(msg.message)?.pollUpdateMessage ?? undefined;
  }

  /**
   * Handles one vote message (`update`: its poll update, when the caller has it already). Synchronous unless something must be looked up (an identity
   * mapping not yet cached, or our own other JID): then it returns the promise to await before
   * the next message.
   */
  handle(msg: WAMessage, update = VoteProcessor.pollUpdateOf(msg)): Promise<void> | undefined {
    const enc = update?.vote;
    const pollId = update?.pollCreationMessageKey?.id ?? undefined;
    if (!update || !pollId || !enc?.encPayload?.length || !enc.encIv?.length) {
      return this.reject(
        msg,
        pollId,
        'malformed',
        'the poll update has no poll key or no encrypted vote',
      );
    }
    const poll = this.polls.get(pollId);
    if (!poll) return this.reject(msg, pollId, 'unknown_poll', 'no poll with this id is stored');
    if (!poll.secret) {
      return this.reject(
        msg,
        pollId,
        'no_secret',
        'the poll was stored without its message secret',
      );
    }

    const voters = voterCandidates(msg.key, this.identity.me());
    const decrypted = decryptVote(
      enc,
      { id: poll.id, secret: poll.secret, creatorJids: poll.creatorJids },
      voters,
      this.chats.hint(poll.chatId),
    );
    if (decrypted) return this.accept(msg, update, poll, voters, decrypted);
    // The poll may have been stored before we knew our own LID (or PN): learn it now.
    return this.ownJidsMissingFrom(poll.creatorJids).then((learnt) => {
      let retried: DecryptedVote | null = null;
      if (learnt.length) {
        const creatorJids = [...poll.creatorJids, ...learnt];
        retried = decryptVote(enc, { id: poll.id, secret: poll.secret!, creatorJids }, voters);
        if (retried) this.polls.setCreatorJids(poll.id, creatorJids);
      }
      if (!retried) {
        return this.reject(
          msg,
          pollId,
          'no_pair_authenticates',
          `no creator/voter pair authenticates (${poll.creatorJids.length} creators x ${voters.length} voters tried)`,
        );
      }
      return this.accept(msg, update, poll, voters, retried);
    });
  }

  /** A decrypted vote: find the canonical voter (cached, or looked up), then store it. */
  private accept(
    msg: WAMessage,
    update: proto.Message.IPollUpdateMessage,
    poll: StoredPoll,
    voters: readonly Candidate[],
    decrypted: DecryptedVote,
  ): Promise<void> | undefined {
    this.chats.rememberPair(poll.chatId, {
      creatorIndex: decrypted.creatorIndex,
      voterSource: decrypted.voter.source,
    });
    const canonical = this.canonicalVoter(decrypted.voter.jid, voters);
    if (canonical instanceof Promise) {
      return canonical.then((c) => this.store(msg, update, poll, decrypted, c));
    }
    this.store(msg, update, poll, decrypted, canonical);
    return undefined;
  }

  private store(
    msg: WAMessage,
    update: proto.Message.IPollUpdateMessage,
    poll: StoredPoll,
    decrypted: DecryptedVote,
    { voter, aliases }: Canonical,
  ): undefined {
    const messageId = msg.key.id ?? undefined;
    const { selected, unknown } = poll.selections.split(decrypted.selected);
    // Timestamps may be protobuf Longs (decoded messages) or numbers: Baileys' toNumber reads both.
    const timestampMs = toNumber(update.senderTimestampMs) || toNumber(msg.messageTimestamp) * 1000;
    const name =
      this.chats.nameOf(voter) ?? (msg.key.fromMe ? undefined : (msg.pushName ?? undefined));
    const outcome = this.polls.applyVote(
      poll.id,
      { voter, name, selected, timestampMs, messageId },
      unknown,
      aliases,
    );
    if (outcome.kind === 'stale') {
      return this.reject(
        msg,
        poll.id,
        'stale',
        `older than the stored vote of this voter (${timestampMs} < ${outcome.current.timestampMs})`,
      );
    }
    if (outcome.kind === 'duplicate') {
      this.logger.debug({ pollId: poll.id, messageId }, 'vote delivered again; already counted');
      return undefined;
    }
    if (this.polls.pendingWrites >= this.maxBatch) this.flush();
    return undefined;
  }

  private reject(
    msg: WAMessage,
    pollId: string | undefined,
    reason: VoteRejectionReason,
    detail: string,
  ): undefined {
    const messageId = msg.key.id ?? undefined;
    const chatId = msg.key.remoteJid ?? undefined;
    this.sink.rejected({
      reason,
      detail,
      ...(pollId ? { pollId } : {}),
      ...(chatId ? { chatId } : {}),
      ...(messageId ? { messageId } : {}),
    });
    return undefined;
  }

  /**
   * Ends a batch of WhatsApp events: its votes are stored and announced now (one transaction,
   * one event). Baileys has acknowledged them to WhatsApp already, so every moment they wait
   * is one in which a crash would lose them for good.
   */
  endBatch(): void {
    if (this.polls.pendingWrites > 0) this.flush();
  }

  /** Stores every queued vote and announces it. */
  flush(): void {
    const changes = this.polls.flush();
    if (changes.length) this.sink.votes(changes);
  }

  close(): void {
    this.flush();
  }

  /** Our own PN and LID (normalised; looked up through the mapping when one is unknown). */
  private async ownJidsMissingFrom(known: readonly string[]): Promise<string[]> {
    const me = this.identity.me();
    const pn = me.pn ?? (me.lid ? await this.identity.pnForLid(me.lid) : undefined);
    const lid = me.lid ?? (me.pn ? await this.identity.lidForPn(me.pn) : undefined);
    return [pn, lid].filter((j): j is string => !!j && !known.includes(j));
  }

  /**
   * WhatsApp's PN <-> LID mapping may have changed (Baileys' `lid-mapping.update`): forget the
   * lookups that found nothing, so the next vote asks again.
   */
  mappingChanged(): void {
    this.mappingMisses.clear();
  }

  /** Forgets every cached mapping (after a logout: another account, another mapping). */
  forgetMappings(): void {
    this.mapped.clear();
    this.mappingMisses.clear();
  }

  /**
   * One id per person: the PN when known (from the message key or WhatsApp's LID mapping),
   * else the LID. The other form is returned as an alias, so a vote stored under it earlier
   * is taken over rather than counted twice. Synchronous when the key names both forms or
   * the lookup's answer is cached; a promise only when the mapping must be asked.
   */
  private canonicalVoter(
    signer: string,
    keyJids: readonly Candidate[],
  ): Canonical | Promise<Canonical> {
    let pn = isPnUser(signer) ? signer : undefined;
    let lid = isLidUser(signer) ? signer : undefined;
    for (const { jid } of keyJids) {
      if (!pn && isPnUser(jid)) pn = jid;
      else if (!lid && isLidUser(jid)) lid = jid;
    }
    if (pn && lid) return { voter: pn, aliases: [lid] };
    const from = pn ?? lid;
    if (!from) return { voter: signer, aliases: [] };
    const cached = this.cachedMapping(from);
    if (cached !== null) return canonical(signer, pn ?? cached, lid ?? cached);
    const lookup = pn ? this.identity.lidForPn(pn) : this.identity.pnForLid(from);
    return lookup.then((found) => {
      this.rememberMapping(from, found);
      return canonical(signer, pn ?? found, lid ?? found);
    });
  }

  /** The cached other form of `jid`; undefined for a recent miss; null when not cached. */
  private cachedMapping(jid: string): string | undefined | null {
    const hit = this.mapped.get(jid);
    if (hit !== undefined) return hit;
    const until = this.mappingMisses.get(jid);
    if (until === undefined) return null;
    if (until > Date.now()) return undefined;
    this.mappingMisses.delete(jid);
    return null;
  }

  private rememberMapping(jid: string, found: string | undefined): void {
    if (found) {
      this.mapped.set(jid, found);
      this.mappingMisses.delete(jid);
    } else {
      // A mapping unknown now may be learnt later: remember the miss only briefly.
      if (this.mappingMisses.size >= MAX_MISSES) this.mappingMisses.clear();
      this.mappingMisses.set(jid, Date.now() + this.mappingMissMs);
    }
  }
}

interface Canonical {
  voter: string;
  aliases: string[];
}

const canonical = (signer: string, pn: string | undefined, lid: string | undefined): Canonical =>
  pn ? { voter: pn, aliases: lid ? [lid] : [] } : { voter: signer, aliases: [] };

/** Bounds the miss cache (each entry lives `mappingMissMs` anyway). */
const MAX_MISSES = 100_000;
