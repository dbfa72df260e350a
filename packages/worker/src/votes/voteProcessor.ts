import type { Logger, VoteChange, VoteRejection, VoteRejectionReason } from '@pollmasters/shared';
import {
  isLidUser,
  isPnUser,
  normalizeMessageContent,
  toNumber,
  type WAMessage,
} from '@whiskeysockets/baileys';
import type { ChatStore } from '../store/chatStore.js';
import type { PollStore } from '../store/pollStore.js';
import { decryptVote, voterCandidates } from './decrypt.js';
import { splitSelection } from './tally.js';

/** Who we are, and the PN <-> LID mapping WhatsApp gave us. */
export interface Identity {
  me(): { pn?: string | undefined; lid?: string | undefined };
  pnForLid(lid: string): Promise<string | undefined>;
  lidForPn(pn: string): Promise<string | undefined>;
}

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
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly polls: PollStore,
    private readonly chats: ChatStore,
    private readonly identity: Identity,
    private readonly sink: VoteSink,
    private readonly logger: Logger,
    private readonly flushMs: number,
    private readonly maxBatch = 2_000,
  ) {}

  /** True for a message that carries a poll vote. */
  static isVote(msg: WAMessage): boolean {
    return !!normalizeMessageContent(msg.message)?.pollUpdateMessage;
  }

  async handle(msg: WAMessage): Promise<void> {
    const update = normalizeMessageContent(msg.message)?.pollUpdateMessage;
    const messageId = msg.key.id ?? undefined;
    const chatId = msg.key.remoteJid ?? undefined;
    const pollId = update?.pollCreationMessageKey?.id ?? undefined;
    const reject = (reason: VoteRejectionReason, detail: string) =>
      this.sink.rejected({
        reason,
        detail,
        ...(pollId ? { pollId } : {}),
        ...(chatId ? { chatId } : {}),
        ...(messageId ? { messageId } : {}),
      });

    const enc = update?.vote;
    if (!update || !pollId || !enc?.encPayload?.length || !enc.encIv?.length) {
      return reject('malformed', 'the poll update has no poll key or no encrypted vote');
    }
    const poll = this.polls.get(pollId);
    if (!poll) return reject('unknown_poll', 'no poll with this id is stored');
    if (!poll.secret) return reject('no_secret', 'the poll was stored without its message secret');

    const voters = voterCandidates(msg.key, this.identity.me());
    const hint = this.chats.hint(poll.chatId);
    let decrypted = decryptVote(
      enc,
      { id: poll.id, secret: poll.secret, creatorJids: poll.creatorJids },
      voters,
      hint,
    );
    if (!decrypted) {
      // The poll may have been stored before we knew our own LID (or PN): learn it now.
      const learnt = await this.ownJidsMissingFrom(poll.creatorJids);
      const creatorJids = [...poll.creatorJids, ...learnt];
      if (learnt.length) {
        decrypted = decryptVote(enc, { id: poll.id, secret: poll.secret, creatorJids }, voters);
        if (decrypted) this.polls.setCreatorJids(poll.id, creatorJids);
      }
    }
    if (!decrypted) {
      return reject(
        'no_pair_authenticates',
        `no creator/voter pair authenticates (${poll.creatorJids.length} creators x ${voters.length} voters tried)`,
      );
    }
    this.chats.rememberPair(poll.chatId, {
      creatorIndex: decrypted.creatorIndex,
      voterSource: decrypted.voter.source,
    });

    const { voter, aliases } = await this.canonicalVoter(
      decrypted.voter.jid,
      voters.map((v) => v.jid),
    );
    const { selected, unknown } = splitSelection(
      poll.options.map((o) => o.hash),
      decrypted.selected,
    );
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
      return reject(
        'stale',
        `older than the stored vote of this voter (${timestampMs} < ${outcome.current.timestampMs})`,
      );
    }
    if (outcome.kind === 'duplicate') {
      this.logger.debug({ pollId, messageId }, 'vote delivered again; already counted');
      return;
    }
    if (this.polls.pendingWrites >= this.maxBatch) this.flush();
  }

  /**
   * Ends a batch of WhatsApp events: with `flushMs` 0 its votes are stored and announced now
   * (one transaction, one event); otherwise within `flushMs`, together with later batches.
   */
  endBatch(): void {
    if (this.polls.pendingWrites === 0) return;
    if (this.flushMs === 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  /** Stores every queued vote and announces it. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
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
   * One id per person: the PN when known (from the message key or WhatsApp's LID mapping),
   * else the LID. The other form is returned as an alias, so a vote stored under it earlier
   * is taken over rather than counted twice.
   */
  private async canonicalVoter(
    signer: string,
    keyJids: readonly string[],
  ): Promise<{ voter: string; aliases: string[] }> {
    let pn = isPnUser(signer) ? signer : keyJids.find((j) => isPnUser(j));
    let lid = isLidUser(signer) ? signer : keyJids.find((j) => isLidUser(j));
    if (!pn && lid) pn = await this.identity.pnForLid(lid);
    if (!lid && pn) lid = await this.identity.lidForPn(pn);
    if (pn) return { voter: pn, aliases: lid ? [lid] : [] };
    return { voter: signer, aliases: [] };
  }
}
