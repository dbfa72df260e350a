import {
  aesDecryptGCM,
  hmacSign,
  isLidUser,
  isPnUser,
  jidNormalizedUser,
  proto,
} from '@whiskeysockets/baileys';
import type { PairHint } from '../store/chatStore.js';
import type { OwnJids } from './identity.js';

/** A JID that may have signed a vote, and where in the message key it came from. */
export interface Candidate {
  jid: string;
  source: string;
}

export interface DecryptedVote {
  /** Selected option hashes, lowercase hex. */
  selected: string[];
  creatorIndex: number;
  voter: Candidate;
}

/**
 * `jidNormalizedUser` for a PN or LID user JID: without a device (`:`) or agent (`_`) part it
 * is already normal, as almost every vote's is, and decoding it to encode it again is skipped.
 */
export const normalUser = (jid: string): string =>
  jid.includes(':') || jid.includes('_') ? jidNormalizedUser(jid) : jid;

/** The person JIDs a key names (PN and LID users only), normalised, without duplicates. */
export const voterCandidates = (
  key: {
    participant?: string | null;
    participantAlt?: string | null;
    remoteJid?: string | null;
    remoteJidAlt?: string | null;
    fromMe?: boolean | null;
  },
  me: OwnJids,
): Candidate[] => {
  const raw: [string, string | null | undefined][] = key.fromMe
    ? [
        ['me:pn', me.pn],
        ['me:lid', me.lid],
      ]
    : [
        ['participant', key.participant],
        ['participantAlt', key.participantAlt],
        ['remoteJid', key.remoteJid],
        ['remoteJidAlt', key.remoteJidAlt],
      ];
  const seen = new Set<string>();
  const out: Candidate[] = [];
  for (const [source, jid] of raw) {
    if (!jid || !(isPnUser(jid) || isLidUser(jid))) continue;
    const normal = normalUser(jid);
    if (seen.has(normal)) continue;
    seen.add(normal);
    out.push({ jid: normal, source });
  }
  return out;
};

/** key0 per poll secret: the same for every vote of a poll, so derived once. */
const key0s = new WeakMap<Uint8Array, Buffer>();
const ZEROS = new Uint8Array(32);
const POLL_VOTE = Buffer.from('Poll Vote');
const ONE = new Uint8Array([1]);

/**
 * Baileys' `decryptPollVote`, step for step and with its own primitives, except that key0
 * (HMAC-SHA256 keyed by 32 zero bytes over the poll's secret) is derived once per poll instead
 * of once per attempt. Throws, as Baileys does, when the pair does not authenticate.
 * packages/worker/test/decrypt.test.ts pins it byte for byte to `decryptPollVote`.
 */
export const decryptPollVoteCached = (
  { encPayload, encIv }: proto.Message.IPollEncValue,
  ctx: { pollCreatorJid: string; pollMsgId: string; pollEncKey: Uint8Array; voterJid: string },
): proto.Message.PollVoteMessage => {
  let key0 = key0s.get(ctx.pollEncKey);
  if (!key0) {
    key0 = hmacSign(ctx.pollEncKey, ZEROS, 'sha256');
    key0s.set(ctx.pollEncKey, key0);
  }
  const sign = Buffer.concat([
    Buffer.from(ctx.pollMsgId),
    Buffer.from(ctx.pollCreatorJid),
    Buffer.from(ctx.voterJid),
    POLL_VOTE,
    ONE,
  ]);
  const decKey = hmacSign(sign, key0, 'sha256');
  const aad = Buffer.from(`${ctx.pollMsgId}\u0000${ctx.voterJid}`);
  const decrypted = aesDecryptGCM(encPayload as Uint8Array, decKey, encIv as Uint8Array, aad);
  return proto.Message.PollVoteMessage.decode(decrypted);
};

/**
 * Tries every (creator, voter) pair until one authenticates (AES-GCM verifies the tag, so a
 * wrong pair fails rather than decrypting to garbage). The pair that worked last in this chat
 * is tried first.
 */
export const decryptVote = (
  enc: proto.Message.IPollEncValue,
  poll: { id: string; secret: Uint8Array; creatorJids: readonly string[] },
  voters: readonly Candidate[],
  hint?: PairHint,
): DecryptedVote | null => {
  const pairs: [number, Candidate][] = [];
  for (let c = 0; c < poll.creatorJids.length; c++) {
    for (const v of voters) pairs.push([c, v]);
  }
  if (hint) {
    const i = pairs.findIndex(([c, v]) => c === hint.creatorIndex && v.source === hint.voterSource);
    if (i > 0) pairs.unshift(...pairs.splice(i, 1));
  }
  for (const [creatorIndex, voter] of pairs) {
    try {
      const vote = decryptPollVoteCached(enc, {
        pollCreatorJid: poll.creatorJids[creatorIndex]!,
        pollMsgId: poll.id,
        pollEncKey: poll.secret,
        voterJid: voter.jid,
      });
      const selected = (vote.selectedOptions ?? []).map((h) => Buffer.from(h).toString('hex'));
      return { selected, creatorIndex, voter };
    } catch {
      // Not this pair: try the next.
    }
  }
  return null;
};
