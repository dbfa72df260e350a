import { isLidUser, isPnUser, jidNormalizedUser, type proto } from '@whiskeysockets/baileys';
import type { PairHint } from '../store/chatStore.js';
import type { VoteKeyContext } from './encryptVote.js';
import type { OwnJids } from './identity.js';
import { openVote } from './openVote.js';
import { SealedBatch, voteCipher } from './voteCipher.js';

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
  const out: Candidate[] = [];
  if (key.fromMe) {
    addCandidate(out, me.pn, 'me:pn');
    addCandidate(out, me.lid, 'me:lid');
  } else {
    addCandidate(out, key.participant, 'participant');
    addCandidate(out, key.participantAlt, 'participantAlt');
    addCandidate(out, key.remoteJid, 'remoteJid');
    addCandidate(out, key.remoteJidAlt, 'remoteJidAlt');
  }
  return out;
};

/** Adds a person JID (normalised) that is not among the candidates yet. */
const addCandidate = (out: Candidate[], jid: string | null | undefined, source: string) => {
  if (!jid || !(isPnUser(jid) || isLidUser(jid))) return;
  const normal = normalUser(jid);
  for (const c of out) if (c.jid === normal) return;
  out.push({ jid: normal, source });
};

/** What decryption needs of a poll: its `hashes` (its options', in order) name what a vote picks. */
export interface PollKeys {
  id: string;
  secret: Uint8Array;
  creatorJids: readonly string[];
  hashes?: readonly string[];
}

/**
 * Tries every (creator, voter) pair until one authenticates (AES-GCM verifies the tag, so a
 * wrong pair fails rather than decrypting to garbage). The pair that worked last in this chat
 * is tried first (`firstPair`), so that almost every vote is decrypted once, with no list of
 * pairs built. `tried`: a pair already tried without success (by `VoteProcessor.openAhead`),
 * not tried again.
 */
export const decryptVote = (
  enc: proto.Message.IPollEncValue,
  poll: PollKeys,
  voters: readonly Candidate[],
  hint?: PairHint,
  tried?: PairHint,
): DecryptedVote | null => {
  const first = firstPair(poll, voters, hint);
  if (first && !isPair(tried, first.creatorIndex, first.voter)) {
    const vote = attempt(enc, poll, first.creatorIndex, first.voter);
    if (vote) return vote;
  }
  for (let c = 0; c < poll.creatorJids.length; c++) {
    for (const voter of voters) {
      if ((c === first?.creatorIndex && voter === first.voter) || isPair(tried, c, voter)) continue;
      const vote = attempt(enc, poll, c, voter);
      if (vote) return vote;
    }
  }
  return null;
};

const isPair = (pair: PairHint | undefined, creatorIndex: number, voter: Candidate): boolean =>
  pair !== undefined && pair.creatorIndex === creatorIndex && pair.voterSource === voter.source;

/** The pair `decryptVote` tries first: the chat's hinted one when it applies, else the first. */
export const firstPair = (
  poll: PollKeys,
  voters: readonly Candidate[],
  hint?: PairHint,
): { creatorIndex: number; voter: Candidate } | undefined => {
  const hinted = hint ? voters.find((v) => v.source === hint.voterSource) : undefined;
  if (hinted && hint!.creatorIndex < poll.creatorJids.length) {
    return { creatorIndex: hint!.creatorIndex, voter: hinted };
  }
  return poll.creatorJids.length && voters.length
    ? { creatorIndex: 0, voter: voters[0]! }
    : undefined;
};

/** The key context of one pair: one object, reused (the cipher copies what it needs at once). */
export const keyContext = (
  into: VoteKeyContext,
  poll: PollKeys,
  creatorIndex: number,
  voter: Candidate,
): VoteKeyContext => {
  into.pollMsgId = poll.id;
  into.pollEncKey = poll.secret;
  into.pollCreatorJid = poll.creatorJids[creatorIndex]!;
  into.voterJid = voter.jid;
  return into;
};

export const emptyContext = (): VoteKeyContext => ({
  pollMsgId: '',
  pollEncKey: new Uint8Array(0),
  pollCreatorJid: '',
  voterJid: '',
});

const context = emptyContext();
/** One vote at a time with the native cipher: a batch of one, reused by every attempt. */
const single = new SealedBatch();

const attempt = (
  enc: proto.Message.IPollEncValue,
  poll: PollKeys,
  creatorIndex: number,
  voter: Candidate,
): DecryptedVote | null => {
  keyContext(context, poll, creatorIndex, voter);
  let vote: proto.Message.PollVoteMessage | null;
  if (voteCipher().name === 'native') {
    single.clear();
    single.add(enc, context);
    single.open();
    vote = single.vote(0);
  } else {
    // node:crypto straight away: a batch's bookkeeping would only add to it.
    try {
      vote = openVote(enc, context);
    } catch {
      return null; // Not this pair.
    }
  }
  return vote ? decrypted(vote, poll, creatorIndex, voter) : null;
};

/** An opened vote as `decryptVote` answers it: its picks named by the poll's own hashes. */
export const decrypted = (
  vote: proto.Message.PollVoteMessage,
  poll: PollKeys,
  creatorIndex: number,
  voter: Candidate,
): DecryptedVote => {
  const selected: string[] = [];
  for (const hash of vote.selectedOptions ?? []) selected.push(hashOf(hash, poll.hashes));
  return { selected, creatorIndex, voter };
};

/**
 * The hex of an option hash: the poll's own string when the bytes are one of its options'
 * (no string made, and the poll's strings are what its selections are matched against, by
 * reference first), else made from the bytes.
 */
const hashOf = (bytes: Uint8Array, hashes: readonly string[] | undefined): string => {
  if (hashes && bytes.length === HASH_BYTES) {
    const options = optionBytesOf(hashes);
    for (let i = 0; i < options.length; i++) if (sameHash(options[i]!, bytes)) return hashes[i]!;
  }
  return hex(bytes);
};

const HASH_BYTES = 32;
/** A poll's option hashes as bytes, per array of hashes (a poll's never changes). */
const optionBytes = new WeakMap<readonly string[], (Uint8Array | null)[]>();
const optionBytesOf = (hashes: readonly string[]): (Uint8Array | null)[] => {
  let bytes = optionBytes.get(hashes);
  if (bytes === undefined) {
    // A hash that is not 64 lowercase hex digits is no vote's hex: it matches nothing.
    bytes = hashes.map((h) => {
      const b = Buffer.from(h, 'hex');
      return b.length === HASH_BYTES && b.toString('hex') === h ? b : null;
    });
    optionBytes.set(hashes, bytes);
  }
  return bytes;
};
const sameHash = (option: Uint8Array | null, bytes: Uint8Array): boolean => {
  if (option === null) return false;
  for (let i = 0; i < HASH_BYTES; i++) if (option[i] !== bytes[i]) return false;
  return true;
};

/** An option hash's hex, without copying it first when it is a Buffer already. */
const hex = (bytes: Uint8Array): string =>
  (Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  ).toString('hex');
