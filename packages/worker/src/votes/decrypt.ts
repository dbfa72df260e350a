import { isLidUser, isPnUser, jidNormalizedUser, type proto } from '@whiskeysockets/baileys';
import type { PairHint } from '../store/chatStore.js';
import type { OwnJids } from './identity.js';
import { openVote } from './openVote.js';

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

/**
 * Tries every (creator, voter) pair until one authenticates (AES-GCM verifies the tag, so a
 * wrong pair fails rather than decrypting to garbage). The pair that worked last in this chat
 * is tried first, so that almost every vote is decrypted once, with no list of pairs built.
 */
export const decryptVote = (
  enc: proto.Message.IPollEncValue,
  poll: { id: string; secret: Uint8Array; creatorJids: readonly string[] },
  voters: readonly Candidate[],
  hint?: PairHint,
): DecryptedVote | null => {
  const hinted = hint ? voters.findIndex((v) => v.source === hint.voterSource) : -1;
  if (hinted >= 0 && hint!.creatorIndex < poll.creatorJids.length) {
    const vote = attempt(enc, poll, hint!.creatorIndex, voters[hinted]!);
    if (vote) return vote;
  }
  for (let c = 0; c < poll.creatorJids.length; c++) {
    for (let v = 0; v < voters.length; v++) {
      if (v === hinted && c === hint!.creatorIndex) continue;
      const vote = attempt(enc, poll, c, voters[v]!);
      if (vote) return vote;
    }
  }
  return null;
};

const attempt = (
  enc: proto.Message.IPollEncValue,
  poll: { id: string; secret: Uint8Array; creatorJids: readonly string[] },
  creatorIndex: number,
  voter: Candidate,
): DecryptedVote | null => {
  let vote: proto.Message.PollVoteMessage;
  try {
    vote = openVote(enc, {
      pollMsgId: poll.id,
      pollEncKey: poll.secret,
      pollCreatorJid: poll.creatorJids[creatorIndex]!,
      voterJid: voter.jid,
    });
  } catch {
    return null; // Not this pair.
  }
  const selected: string[] = [];
  for (const hash of vote.selectedOptions ?? []) selected.push(hex(hash));
  return { selected, creatorIndex, voter };
};

/** An option hash's hex, without copying it first when it is a Buffer already. */
const hex = (bytes: Uint8Array): string =>
  (Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  ).toString('hex');
