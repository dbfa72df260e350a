import {
  decryptPollVote,
  isLidUser,
  isPnUser,
  jidNormalizedUser,
  type proto,
} from '@whiskeysockets/baileys';
import type { PairHint } from '../store/chatStore.js';

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

/** The person JIDs a key names (PN and LID users only), normalised, without duplicates. */
export const voterCandidates = (
  key: {
    participant?: string | null;
    participantAlt?: string | null;
    remoteJid?: string | null;
    remoteJidAlt?: string | null;
    fromMe?: boolean | null;
  },
  me: { pn?: string | undefined; lid?: string | undefined },
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
    const normal = jidNormalizedUser(jid);
    if (seen.has(normal)) continue;
    seen.add(normal);
    out.push({ jid: normal, source });
  }
  return out;
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
      const vote = decryptPollVote(enc, {
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
