import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { proto } from '@whiskeysockets/baileys';
import type { VoteKeyContext } from './encryptVote.js';
import { openVote, putUtf8 } from './openVote.js';

/**
 * Which code opens sealed votes. `native`: packages/worker/native/voteCipher.cc, built by the
 * worker package's install script, which opens a whole batch in one call with one OpenSSL
 * context (in isolation about 2 µs per vote in batches, decode included, against 9-10 for
 * node:crypto's cipher object per vote: docs/performance.md, "Session 10: the native vote
 * cipher in the product"). `node`: ./openVote.ts, node:crypto,
 * when the addon is not built or the configuration asks for it. Both give the same answers;
 * packages/worker/test/voteCipher.test.ts checks each against Baileys' `decryptPollVote`.
 */
export type VoteCipherName = 'native' | 'node';
/** What the configuration may ask for: `auto` is `native` when the addon is built. */
export type VoteCipherChoice = 'auto' | 'node';

interface Addon {
  openBatch(bytes: Uint8Array, ends: Uint32Array, out: Uint8Array, ok: Uint8Array): void;
}

/** The addon, or why it could not be loaded (read once per thread, on first use). */
let loaded: { addon: Addon } | { why: string } | undefined;
const load = (): { addon: Addon } | { why: string } => {
  if (!loaded) {
    try {
      // From src/votes or dist/votes alike: two levels up is the package.
      const addon = createRequire(import.meta.url)('../../native/build/vote_cipher.node') as Addon;
      loaded = { addon };
    } catch (err) {
      loaded = { why: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
    }
  }
  return loaded;
};

let addon: Addon | undefined;
let chosen: { name: VoteCipherName; why?: string } | undefined;

/**
 * Picks the cipher for this thread (a worker calls it once at start, from its configuration):
 * returns which one runs and, for node:crypto under `auto`, why the addon is not used.
 */
export const useVoteCipher = (choice: VoteCipherChoice): { name: VoteCipherName; why?: string } => {
  if (choice === 'node') {
    addon = undefined;
    chosen = { name: 'node', why: 'the configuration asks for node:crypto' };
    return chosen;
  }
  const found = load();
  addon = 'addon' in found ? found.addon : undefined;
  chosen = addon ? { name: 'native' } : { name: 'node', why: (found as { why: string }).why };
  return chosen;
};

/** The cipher in use (`auto` until a worker chose). */
export const voteCipher = (): { name: VoteCipherName; why?: string } =>
  chosen ?? useVoteCipher('auto');

const IV = 12;
const PRK = 32;
const TAG = 16;
const INFO_END = 'Poll Vote\u0001';
const NO_SALT = new Uint8Array(32);

/** HKDF-Extract (no salt) of a poll's secret: once per poll, the same for all its votes. */
const prks = new WeakMap<Uint8Array, Buffer>();
const prkOf = (secret: Uint8Array): Buffer => {
  let prk = prks.get(secret);
  if (!prk) {
    prk = createHmac('sha256', NO_SALT).update(secret).digest();
    prks.set(secret, prk);
  }
  return prk;
};

/**
 * A batch of sealed votes, each with the key context of one creator/voter pair, opened in one
 * call: `add` each, `open`, then read each with `vote(i)`. Buffers are reused from batch to
 * batch, so a vote read from a batch is valid until its next `open` (its option hashes are
 * views of the batch's plaintext): decode what you keep before then.
 */
export class SealedBatch {
  private bytes: Buffer = Buffer.alloc(16_384);
  private ends = new Uint32Array(3 * 256);
  private out: Buffer = Buffer.alloc(16_384);
  private ok = new Uint8Array(256);
  private used = 0;
  private count = 0;
  /**
   * Votes the addon does not take (no addon in use, an iv not 12 bytes long, a payload
   * shorter than its tag), by index: node:crypto opens them, as Baileys would.
   */
  private readonly aside = new Map<
    number,
    {
      enc: proto.Message.IPollEncValue;
      ctx: VoteKeyContext;
      vote: proto.Message.PollVoteMessage | null;
    }
  >();

  /** Empties the batch (what was read from it before stays valid until the next `open`). */
  clear(): void {
    this.used = 0;
    this.count = 0;
    this.aside.clear();
  }

  /** Adds a vote with one pair's key context: the next index of the batch. */
  add(enc: proto.Message.IPollEncValue, ctx: VoteKeyContext): void {
    const i = this.count++;
    this.room(i + 1);
    const payload = enc.encPayload as Uint8Array;
    const iv = enc.encIv as Uint8Array;
    const { pollMsgId, pollCreatorJid, voterJid } = ctx;
    const e = 3 * i;
    if (!addon || iv.length !== IV || payload.length < TAG) {
      // The caller may reuse its context object for the next vote: this one is kept as it is.
      this.aside.set(i, { enc, ctx: { ...ctx }, vote: null });
      // An empty record in the batch, which the addon finds too short to authenticate.
      this.bytes = grown(this.bytes, this.used + PRK + IV, true);
      this.used += PRK + IV;
      this.ends.fill(this.used, e, e + 3);
      return;
    }
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const ids = 3 * (2 * pollMsgId.length + 2 * voterJid.length + pollCreatorJid.length);
    const most = PRK + IV + ids + 1 + INFO_END.length + payload.length;
    const bytes = grown(this.bytes, this.used + most, true);
    this.bytes = bytes;
    let at = this.used;
    bytes.set(prkOf(ctx.pollEncKey), at);
    bytes.set(iv, at + PRK);
    at = putUtf8(bytes, pollMsgId, at + PRK + IV);
    bytes[at++] = 0;
    this.ends[e] = at = putUtf8(bytes, voterJid, at);
    at = putUtf8(bytes, pollMsgId, at);
    at = putUtf8(bytes, pollCreatorJid, at);
    at = putUtf8(bytes, voterJid, at);
    this.ends[e + 1] = at = putUtf8(bytes, INFO_END, at);
    bytes.set(payload, at);
    this.ends[e + 2] = this.used = at + payload.length;
  }

  /** Opens every vote added since `clear`: one call into the addon (when it is in use). */
  open(): void {
    const n = this.count;
    if (addon && n > this.aside.size) {
      this.out = grown(this.out, this.used, false);
      const ends = this.ends.subarray(0, 3 * n);
      addon.openBatch(this.bytes.subarray(0, this.used), ends, this.out, this.ok.subarray(0, n));
    }
    for (const entry of this.aside.values()) entry.vote = viaNode(entry.enc, entry.ctx);
  }

  /** Vote i as opened: its message, or null when the pair does not authenticate it. */
  vote(i: number): proto.Message.PollVoteMessage | null {
    const aside = this.aside.get(i);
    if (aside) return aside.vote;
    if (this.ok[i] !== 1) return null;
    const end = this.ends[3 * i + 2]! - TAG;
    return proto.Message.PollVoteMessage.decode(this.out.subarray(this.ends[3 * i + 1]!, end));
  }

  /** Room for the offsets and results of `n` votes. */
  private room(n: number): void {
    if (n <= this.ok.length) return;
    const size = Math.max(n, 2 * this.ok.length);
    const ends = new Uint32Array(3 * size);
    ends.set(this.ends);
    this.ends = ends;
    this.ok = new Uint8Array(size);
  }
}

/** `buf`, or a larger one (with its bytes when `keep`) when it holds fewer than `size`. */
const grown = (buf: Buffer, size: number, keep: boolean): Buffer => {
  if (size <= buf.length) return buf;
  const next = Buffer.alloc(Math.max(size, 2 * buf.length));
  if (keep) buf.copy(next);
  return next;
};

const viaNode = (
  enc: proto.Message.IPollEncValue,
  ctx: VoteKeyContext,
): proto.Message.PollVoteMessage | null => {
  try {
    return openVote(enc, ctx);
  } catch {
    return null; // Not this pair.
  }
};
