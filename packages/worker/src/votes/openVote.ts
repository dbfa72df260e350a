import { createDecipheriv, createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { proto } from '@whiskeysockets/baileys';
import type { VoteKeyContext } from './encryptVote.js';

/**
 * The poll's pseudo-random key for HKDF (HKDF-Extract with no salt: HMAC-SHA256 keyed by 32
 * zero bytes over the poll's secret), the same for every vote of a poll: derived once per
 * secret, kept as a KeyObject so that no vote converts it again.
 */
const extracted = new WeakMap<Uint8Array, KeyObject>();
const NO_SALT = new Uint8Array(32);
/** What follows the JIDs in HKDF's info, and HKDF-Expand's block counter (one block: 32 bytes). */
const INFO_END = 'Poll Vote\u0001';
const TAG_BYTES = 16;
const GCM_OPTIONS = { authTagLength: TAG_BYTES };

/**
 * The AAD `pollMsgId\0voterJid` as UTF-8, written into one reused buffer: `setAAD` copies it
 * at once, so no vote needs a buffer of its own for it.
 */
let aad = Buffer.alloc(256);
const aadOf = (pollMsgId: string, voterJid: string): Buffer => {
  const most = 3 * (pollMsgId.length + voterJid.length) + 1;
  if (most > aad.length) aad = Buffer.alloc(most);
  let at = aad.write(pollMsgId, 0, 'utf8');
  aad[at++] = 0;
  at += aad.write(voterJid, at, 'utf8');
  return aad.subarray(0, at);
};

const prkOf = (secret: Uint8Array): KeyObject => {
  let prk = extracted.get(secret);
  if (!prk) {
    prk = createSecretKey(createHmac('sha256', NO_SALT).update(secret).digest());
    extracted.set(secret, prk);
  }
  return prk;
};

/**
 * Decrypts a poll vote with node:crypto, the inverse of ./encryptVote.ts: the key is
 * HKDF-SHA256 of the poll's secret with the info pollMsgId‖creatorJid‖voterJid‖"Poll Vote"
 * (Extract once per poll, one HMAC per vote for Expand's single block), then AES-256-GCM with
 * the AAD `pollMsgId\0voterJid` over the payload, whose last 16 bytes are the tag. Returns the
 * vote as Baileys' `decryptPollVote` does, and like it throws when the pair does not
 * authenticate (GCM checks the tag, so a wrong pair never decrypts to garbage).
 * packages/worker/test/openVote.test.ts checks it against `decryptPollVote` over random votes.
 */
export const openVote = (
  { encPayload, encIv }: proto.Message.IPollEncValue,
  ctx: VoteKeyContext,
): proto.Message.PollVoteMessage => {
  const payload = encPayload as Uint8Array;
  if (payload.length < TAG_BYTES) throw new Error('poll vote payload shorter than its tag');
  // The strings go in as UTF-8, as Buffer.from encodes them, each straight from the string.
  const key = createHmac('sha256', prkOf(ctx.pollEncKey))
    .update(ctx.pollMsgId)
    .update(ctx.pollCreatorJid)
    .update(ctx.voterJid)
    .update(INFO_END)
    .digest();
  const decipher = createDecipheriv('aes-256-gcm', key, encIv as Uint8Array, GCM_OPTIONS);
  decipher.setAAD(aadOf(ctx.pollMsgId, ctx.voterJid));
  const tagAt = payload.length - TAG_BYTES;
  decipher.setAuthTag(payload.subarray(tagAt));
  const plaintext = decipher.update(payload.subarray(0, tagAt));
  decipher.final();
  return proto.Message.PollVoteMessage.decode(plaintext);
};
