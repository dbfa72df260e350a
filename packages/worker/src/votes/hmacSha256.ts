import { createHash } from 'node:crypto';

/**
 * HMAC-SHA256 with the key's inner and outer states computed once: node's `createHmac`
 * re-derives both from the key on every call (two SHA-256 compressions and a C++ object),
 * and a poll's votes all use the same key (its secret's HKDF pseudo-random key). With the
 * states kept, a vote's HMAC is only the compressions of its own message and one for the
 * outer hash, here in TypeScript over 32-bit integers.
 * packages/worker/test/hmacSha256.test.ts checks it against node:crypto over random keys and
 * messages; docs/performance.md ("Session 8") has what it saves.
 */

/** SHA-256's round constants (FIPS 180-4, 4.2.2). */
const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
/** SHA-256's initial hash value (FIPS 180-4, 5.3.3). */
const IV = Int32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);
const BLOCK = 64;
/** The message schedule, reused by every compression (one thread, no reentrance). */
const W = new Int32Array(64);

/** One SHA-256 compression of the 64 bytes of `block` at `at` into `state`. */
const compress = (state: Int32Array, block: Uint8Array, at: number): void => {
  for (let i = 0; i < 16; i++, at += 4) {
    W[i] = (block[at]! << 24) | (block[at + 1]! << 16) | (block[at + 2]! << 8) | block[at + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15]!;
    const y = W[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
};

/** Writes the state's eight words big-endian at `at`. */
const writeState = (state: Int32Array, out: Uint8Array, at: number): void => {
  for (let i = 0; i < 8; i++, at += 4) {
    const v = state[i]!;
    out[at] = v >>> 24;
    out[at + 1] = v >>> 16;
    out[at + 2] = v >>> 8;
    out[at + 3] = v;
  }
};

/** The working state and the outer hash's one block, reused by every `HmacSha256Key.mac`. */
const work = new Int32Array(8);
const outerBlock = new Uint8Array(BLOCK);
// The outer hash's message is the 64-byte padded key and the 32-byte inner hash: after the
// inner hash, its padding (0x80, zeros, the length in bits, 768) never changes.
outerBlock[32] = 0x80;
outerBlock[62] = 768 >>> 8;
outerBlock[63] = 768 & 0xff;

/** The bytes `mac` needs in its message buffer for a message of `length` bytes. */
export const macCapacity = (length: number): number => Math.ceil((length + 9) / BLOCK) * BLOCK;

/** An HMAC-SHA256 key with its inner (ipad) and outer (opad) states computed once. */
export class HmacSha256Key {
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);

  constructor(key: Uint8Array) {
    const padded = new Uint8Array(BLOCK);
    padded.set(key.length > BLOCK ? createHash('sha256').update(key).digest() : key);
    for (const [state, pad] of [
      [this.inner, 0x36],
      [this.outer, 0x5c],
    ] as const) {
      const block = padded.map((byte) => byte ^ pad);
      state.set(IV);
      compress(state, block, 0);
    }
  }

  /**
   * Writes the HMAC of `message[0, length)` into `out[0, 32)`. The message buffer must hold
   * `macCapacity(length)` bytes: SHA-256's padding is written after the message, in place.
   */
  mac(message: Uint8Array, length: number, out: Uint8Array): void {
    const end = macCapacity(length);
    if (message.length < end || length >= 2 ** 28) {
      throw new RangeError('HMAC message longer than its buffer has room to pad');
    }
    message[length] = 0x80;
    message.fill(0, length + 1, end - 4);
    // The length in bits of the inner hash's message: the 64-byte key block, then `length`.
    // Under 2^28 bytes (checked above), the upper 32 of the 64 bits are zero.
    const bits = (BLOCK + length) * 8;
    message[end - 4] = bits >>> 24;
    message[end - 3] = bits >>> 16;
    message[end - 2] = bits >>> 8;
    message[end - 1] = bits;
    work.set(this.inner);
    for (let at = 0; at < end; at += BLOCK) compress(work, message, at);
    writeState(work, outerBlock, 0);
    work.set(this.outer);
    compress(work, outerBlock, 0);
    writeState(work, out, 0);
  }
}
