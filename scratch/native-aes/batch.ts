import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { proto } from '@whiskeysockets/baileys';
import type { VoteKeyContext } from '../../packages/worker/src/votes/encryptVote.js';
import { HmacSha256Key, macCapacity } from '../../packages/worker/src/votes/hmacSha256.js';
import { openVote } from '../../packages/worker/src/votes/openVote.js';

/**
 * Prototype (issue 21, not used by the product): packs a batch of votes into the flat buffers
 * of ./native_aes.cc's `openBatch`, calls it once, and decodes what authenticated.
 */

type OpenBatch = (
  derive: boolean,
  keys: Uint8Array,
  ivs: Uint8Array,
  aad: Uint8Array,
  aadEnd: Uint32Array,
  info: Uint8Array,
  infoEnd: Uint32Array,
  payload: Uint8Array,
  payloadEnd: Uint32Array,
  out: Uint8Array,
  ok: Uint8Array,
) => void;

export const native = createRequire(import.meta.url)('./build/Release/native_aes.node') as {
  openBatch: OpenBatch;
};

export interface Sealed {
  encPayload: Uint8Array;
  encIv: Uint8Array;
}

const IV = 12;
const INFO_END = 'Poll Vote\u0001';
const NO_SALT = new Uint8Array(32);

/** HKDF-Extract of a poll's secret, as bytes (native side) and as kept HMAC states (TS side). */
const prks = new WeakMap<Uint8Array, Buffer>();
const prkOf = (secret: Uint8Array): Buffer => {
  let prk = prks.get(secret);
  if (!prk) {
    prk = createHmac('sha256', NO_SALT).update(secret).digest();
    prks.set(secret, prk);
  }
  return prk;
};
const hmacKeys = new WeakMap<Uint8Array, HmacSha256Key>();
const hmacKeyOf = (secret: Uint8Array): HmacSha256Key => {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = new HmacSha256Key(prkOf(secret));
    hmacKeys.set(secret, key);
  }
  return key;
};

/** Writes `text` as UTF-8 at `at` (a loop for ASCII, which ids and JIDs are), returns its end. */
const put = (buf: Buffer, text: string, at: number): number => {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x80) return at + buf.write(text, at, 'utf8');
    buf[at + i] = unit;
  }
  return at + text.length;
};

/** A growable byte buffer: `ensure` keeps what was written so far. */
class Bytes {
  buf = Buffer.alloc(4096);
  ensure(size: number): Buffer {
    if (size > this.buf.length) {
      const next = Buffer.alloc(Math.max(size, 2 * this.buf.length));
      this.buf.copy(next);
      this.buf = next;
    }
    return this.buf;
  }
}

const keys = new Bytes();
const ivs = new Bytes();
const aad = new Bytes();
const info = new Bytes();
const payload = new Bytes();
const keyInfo = new Bytes();
const key = Buffer.alloc(32);
let ends = new Uint32Array(3 * 1024);

/** `openBatch`'s arguments for a batch, packed into reused buffers (valid until the next pack). */
export type Packed = Parameters<OpenBatch>;

/**
 * Packs votes[i] with contexts[i] for the addon. `derive`: HKDF's Expand runs natively too,
 * else in TypeScript (./hmacSha256.ts) as today, and the addon gets the AES keys.
 */
export const pack = (
  votes: readonly Sealed[],
  contexts: readonly VoteKeyContext[],
  derive: boolean,
): Packed => {
  const n = votes.length;
  if (ends.length < 3 * n) ends = new Uint32Array(3 * n);
  const aadEnd = ends.subarray(0, n);
  const infoEnd = ends.subarray(n, 2 * n);
  const payloadEnd = ends.subarray(2 * n, 3 * n);
  keys.ensure(32 * n);
  ivs.ensure(IV * n);
  let a = 0;
  let f = 0;
  let p = 0;
  for (let i = 0; i < n; i++) {
    const { encPayload, encIv } = votes[i]!;
    const ctx = contexts[i]!;
    const iv = encIv.length === IV ? encIv : NO_SALT.subarray(0, IV);
    ivs.buf.set(iv, i * IV);
    const ids = 3 * (ctx.pollMsgId.length + ctx.voterJid.length + ctx.pollCreatorJid.length);
    const ab = aad.ensure(a + ids + 1);
    a = put(ab, ctx.pollMsgId, a);
    ab[a++] = 0;
    a = put(ab, ctx.voterJid, a);
    aadEnd[i] = a;
    if (derive) {
      const fb = info.ensure(f + ids + INFO_END.length);
      f = put(fb, ctx.pollMsgId, f);
      f = put(fb, ctx.pollCreatorJid, f);
      f = put(fb, ctx.voterJid, f);
      f = put(fb, INFO_END, f);
      infoEnd[i] = f;
      keys.buf.set(prkOf(ctx.pollEncKey), 32 * i);
    } else {
      const kb = keyInfo.ensure(macCapacity(ids + INFO_END.length));
      let at = put(kb, ctx.pollMsgId, 0);
      at = put(kb, ctx.pollCreatorJid, at);
      at = put(kb, ctx.voterJid, at);
      at = put(kb, INFO_END, at);
      hmacKeyOf(ctx.pollEncKey).mac(kb, at, key);
      keys.buf.set(key, 32 * i);
    }
    payload.ensure(p + encPayload.length).set(encPayload, p);
    p += encPayload.length;
    payloadEnd[i] = p;
  }
  // A fresh output per batch: a decoded vote keeps views of its plaintext.
  const out = Buffer.allocUnsafe(p);
  const ok = new Uint8Array(n);
  return [
    derive,
    keys.buf.subarray(0, 32 * n),
    ivs.buf.subarray(0, IV * n),
    aad.buf,
    aadEnd,
    info.buf,
    infoEnd,
    payload.buf.subarray(0, p),
    payloadEnd,
    out,
    ok,
  ];
};

/**
 * Opens votes[i] with contexts[i] in one call into the addon: the decoded vote, or null where
 * it does not authenticate. A vote whose iv is not 12 bytes is opened by node:crypto instead
 * (the addon takes 12-byte ivs only; Baileys and node accept others).
 */
export const openBatch = (
  votes: readonly Sealed[],
  contexts: readonly VoteKeyContext[],
  derive: boolean,
): (proto.Message.PollVoteMessage | null)[] => {
  const args = pack(votes, contexts, derive);
  native.openBatch(...args);
  const [, , , , , , , , payloadEnd, out, ok] = args;
  const read: (proto.Message.PollVoteMessage | null)[] = new Array(votes.length);
  for (let i = 0; i < votes.length; i++) {
    const vote = votes[i]!;
    if (vote.encIv.length !== IV) read[i] = viaNode(vote, contexts[i]!);
    else if (ok[i] !== 1) read[i] = null;
    else {
      const start = i ? payloadEnd[i - 1]! : 0;
      read[i] = proto.Message.PollVoteMessage.decode(out.subarray(start, payloadEnd[i]! - 16));
    }
  }
  return read;
};

const viaNode = (vote: Sealed, ctx: VoteKeyContext): proto.Message.PollVoteMessage | null => {
  try {
    return openVote(vote, ctx);
  } catch {
    return null;
  }
};
