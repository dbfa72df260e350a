import { createDecipheriv, createHmac } from 'node:crypto';
import { proto } from '@whiskeysockets/baileys';
import type { VoteKeyContext } from './encryptVote.js';
import { HmacSha256Key, macCapacity } from './hmacSha256.js';

/**
 * The poll's pseudo-random key for HKDF (HKDF-Extract with no salt: HMAC-SHA256 keyed by 32
 * zero bytes over the poll's secret), the same for every vote of a poll: derived once per
 * secret, kept with its HMAC inner and outer states so that a vote's Expand costs only the
 * compressions of its own info (./hmacSha256.ts).
 */
const extracted = new WeakMap<Uint8Array, HmacSha256Key>();
const NO_SALT = new Uint8Array(32);
/** What follows the JIDs in HKDF's info, and HKDF-Expand's block counter (one block: 32 bytes). */
const INFO_END = 'Poll Vote\u0001';
const TAG_BYTES = 16;
const GCM_OPTIONS = { authTagLength: TAG_BYTES };

/**
 * Writes `text` as UTF-8 at `at`, returning where it ends: ids and JIDs are ASCII, which a
 * loop writes faster than a call into `Buffer.write` for strings this short; anything else
 * is written by `Buffer.write` (the caller's buffer holds 3 bytes per UTF-16 unit).
 */
export const putUtf8 = (buf: Buffer, text: string, at: number): number => {
  const start = at;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x80) return start + buf.write(text, start, 'utf8');
    buf[at++] = unit;
  }
  return at;
};

/**
 * A reused buffer handed out as views of the lengths asked for, each view made once: a vote's
 * AAD, ciphertext and tag are copied into these instead of getting views of their own (a
 * Buffer object each, per vote). The decipher reads them before `openVote` returns.
 */
class Scratch {
  private buf: Buffer;
  private views: Buffer[] = [];

  constructor(size: number) {
    this.buf = Buffer.alloc(size);
  }

  /** The buffer, with room for at least `size` bytes (its views are dropped when it grows). */
  room(size: number): Buffer {
    if (size > this.buf.length) {
      this.buf = Buffer.alloc(Math.max(size, 2 * this.buf.length));
      this.views = [];
    }
    return this.buf;
  }

  /** The buffer's first `length` bytes. */
  view(length: number): Buffer {
    let view = this.views[length];
    if (view === undefined) {
      view = this.buf.subarray(0, length);
      this.views[length] = view;
    }
    return view;
  }
}

/**
 * The AAD `pollMsgId\0voterJid` and HKDF's info, as UTF-8, written into reused buffers:
 * `setAAD` copies the AAD at once and the HMAC reads the info at once, so no vote needs a
 * buffer of its own for either. The derived key is reused too (the decipher copies it).
 */
const aad = new Scratch(256);
const sealed = new Scratch(256);
const tag = new Scratch(TAG_BYTES);
let info = Buffer.alloc(512);
const key = Buffer.alloc(32);
const aadOf = (pollMsgId: string, voterJid: string): Buffer => {
  const buf = aad.room(3 * (pollMsgId.length + voterJid.length) + 1);
  let at = putUtf8(buf, pollMsgId, 0);
  buf[at++] = 0;
  at = putUtf8(buf, voterJid, at);
  return aad.view(at);
};
/** `bytes[from, to)` copied into `into`, as a view of `into` (a loop: these are a few dozen bytes). */
const copied = (into: Scratch, bytes: Uint8Array, from: number, to: number): Buffer => {
  const buf = into.room(to - from);
  for (let i = from; i < to; i++) buf[i - from] = bytes[i]!;
  return into.view(to - from);
};
/** HKDF-Expand's one block: HMAC(prk, info ‖ 0x01), into `key`. */
const expand = (prk: HmacSha256Key, ctx: VoteKeyContext): Buffer => {
  const most = 3 * (ctx.pollMsgId.length + ctx.pollCreatorJid.length + ctx.voterJid.length);
  const room = macCapacity(most + INFO_END.length);
  if (room > info.length) info = Buffer.alloc(room);
  let at = putUtf8(info, ctx.pollMsgId, 0);
  at = putUtf8(info, ctx.pollCreatorJid, at);
  at = putUtf8(info, ctx.voterJid, at);
  at = putUtf8(info, INFO_END, at);
  prk.mac(info, at, key);
  return key;
};

const prkOf = (secret: Uint8Array): HmacSha256Key => {
  let prk = extracted.get(secret);
  if (!prk) {
    prk = new HmacSha256Key(createHmac('sha256', NO_SALT).update(secret).digest());
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
  const decipher = createDecipheriv(
    'aes-256-gcm',
    expand(prkOf(ctx.pollEncKey), ctx),
    encIv as Uint8Array,
    GCM_OPTIONS,
  );
  decipher.setAAD(aadOf(ctx.pollMsgId, ctx.voterJid));
  const tagAt = payload.length - TAG_BYTES;
  decipher.setAuthTag(copied(tag, payload, tagAt, payload.length));
  // The plaintext is a new buffer of the decipher's: the decoded vote may keep views of it.
  const plaintext = decipher.update(copied(sealed, payload, 0, tagAt));
  decipher.final();
  return proto.Message.PollVoteMessage.decode(plaintext);
};
