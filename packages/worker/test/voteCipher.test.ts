import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { optionHash } from '@pollmasters/shared/node';
import { decryptPollVote, proto } from '@whiskeysockets/baileys';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { encryptVote, type VoteKeyContext } from '../src/votes/encryptVote.js';
import { SealedBatch, useVoteCipher } from '../src/votes/voteCipher.js';
import { shortTag } from './shortTag.js';
import { anyContext, contextOf, person, vote } from './voteArbitraries.js';

type Sealed = { encPayload: Uint8Array; encIv: Uint8Array };

/** What a decryption gives: the vote's bytes, re-encoded, or that it did not authenticate. */
const bytesOf = (v: proto.Message.PollVoteMessage | null): string =>
  v === null
    ? 'none'
    : Buffer.from(proto.Message.PollVoteMessage.encode(v).finish()).toString('hex');
const baileys = (enc: Sealed, ctx: VoteKeyContext): string => {
  try {
    return bytesOf(decryptPollVote(enc, ctx));
  } catch {
    return 'none';
  }
};

/**
 * One sealed vote and the key context it is opened with: authentic, tampered, for another
 * voter, cut short, with a 16-byte iv, or with a short tag; and what the cipher must answer
 * (Baileys' answer, except for a payload under 16 bytes: Baileys reads it as a truncated tag
 * and may accept it, ./openVote.test.ts has the case; both our ciphers refuse it).
 */
const case_ = fc
  .tuple(
    vote,
    fc.array(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 30 }),
    fc.constantFrom('authentic', 'tampered', 'other voter', 'cut', 'iv 16', 'short tag'),
    person,
    fc.nat(),
  )
  .map(([v, names, kind, other, at]) => {
    const ctx = contextOf(v);
    const hashes = names.map(optionHash);
    let enc: Sealed = encryptVote(hashes, ctx);
    let opened = ctx;
    if (kind === 'tampered') {
      const payload = Buffer.from(enc.encPayload);
      payload[at % payload.length]! ^= 1 + (at % 255);
      enc = { ...enc, encPayload: payload };
    } else if (kind === 'other voter') opened = { ...ctx, voterJid: other.lid };
    else if (kind === 'cut') enc = { ...enc, encPayload: enc.encPayload.subarray(0, at % 16) };
    else if (kind === 'iv 16') enc = encryptVote(hashes, ctx, randomBytes(16));
    else if (kind === 'short tag') enc = shortTag(ctx, at % 2 ? 4 : 8);
    // Under 16 bytes a payload is no full tag: refused, where Baileys takes a cut tag.
    const expected = enc.encPayload.length < 16 ? 'none' : baileys(enc, opened);
    return { enc, ctx: opened, expected, authentic: kind === 'authentic' || kind === 'iv 16' };
  });

afterAll(() => {
  useVoteCipher('auto');
});

it('auto picks the addon that pnpm install built', () => {
  // A machine with a compiler builds the addon at install; a silent fallback would hide a
  // broken build (`node packages/worker/native/build.mjs --strict` shows why it failed).
  expect(useVoteCipher('auto'), 'the native vote cipher is not built').toEqual({ name: 'native' });
});

describe.each(['native', 'node'] as const)('SealedBatch (%s) against Baileys', (name) => {
  it('answers as Baileys for batches of any size and any mix of good and bad votes', () => {
    useVoteCipher(name === 'native' ? 'auto' : 'node');
    const batch = new SealedBatch();
    let authentic = 0;
    fc.assert(
      fc.property(fc.array(case_, { minLength: 1, maxLength: 60 }), (cases) => {
        batch.clear();
        // One context object, rewritten for each vote, as the worker's callers do.
        const reused = { ...cases[0]!.ctx };
        for (const { enc, ctx } of cases) batch.add(enc, Object.assign(reused, ctx));
        batch.open();
        cases.forEach(({ expected, authentic: real }, i) => {
          expect(bytesOf(batch.vote(i))).toBe(expected);
          if (real) authentic++;
        });
      }),
      { numRuns: 120 },
    );
    // The draws did exercise both answers (an all-'none' run would prove little).
    expect(authentic).toBeGreaterThan(100);
  });

  it('reads ids and JIDs in any UTF-16 as Baileys does', () => {
    useVoteCipher(name === 'native' ? 'auto' : 'node');
    const batch = new SealedBatch();
    fc.assert(
      fc.property(anyContext, (ctx) => {
        const enc = encryptVote([optionHash('Yes')], ctx);
        batch.clear();
        batch.add(enc, ctx);
        batch.open();
        expect(bytesOf(batch.vote(0))).toBe(baileys(enc, ctx));
        expect(batch.vote(0)).not.toBeNull();
      }),
      { numRuns: 200 },
    );
  });
});

describe('the native addon refuses a malformed batch and writes nothing', () => {
  const addon = createRequire(import.meta.url)('../native/build/vote_cipher.node') as {
    openBatch(bytes: Uint8Array, ends: Uint32Array, out: Uint8Array, ok: Uint8Array): void;
  };
  const record = new Uint8Array(44 + 10 + 40 + 20);

  it.each([
    ['offsets past the batch', new Uint32Array([60, 80, 200])],
    ['offsets out of order', new Uint32Array([80, 60, 114])],
    ['a record shorter than its key and iv', new Uint32Array([20, 30, 114])],
    ['fewer offsets than votes', new Uint32Array([54, 94])],
  ])('%s', (_name, ends) => {
    const out = new Uint8Array(record.length).fill(7);
    const ok = new Uint8Array(1).fill(9);
    expect(() => addon.openBatch(record, ends, out, ok)).toThrow(TypeError);
    expect(out.every((b) => b === 7)).toBe(true);
    expect(ok[0]).toBe(9);
  });

  it('takes any offsets without reading or writing outside its arrays (fuzz)', () => {
    // Random records, offsets and output sizes: half of them laid out as records should be
    // (each at least its key and iv long, in order), the rest anyhow. Each call either
    // throws a TypeError having written nothing, or opens every vote (none is authentic
    // here) and writes only inside `out` and `ok`. A stray read or write would crash.
    let opened = 0;
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.nat({ max: 450 }), { maxLength: 24 }),
        fc.nat({ max: 450 }),
        fc.nat({ max: 8 }),
        fc.boolean(),
        (random, offsets, outLength, count, laidOut) => {
          let bytes = random;
          let ends = Uint32Array.from(offsets);
          let n = count;
          let out = new Uint8Array(outLength);
          if (laidOut) {
            n = Math.floor(offsets.length / 3);
            ends = new Uint32Array(3 * n);
            let at = 0;
            for (let i = 0; i < 3 * n; i += 3) {
              ends[i] = at += 44 + (offsets[i]! % 40);
              ends[i + 1] = at += offsets[i + 1]! % 40;
              ends[i + 2] = at += offsets[i + 2]! % 60;
            }
            bytes = Uint8Array.from(
              { length: at },
              (_, i) => random[i % (random.length || 1)] ?? i,
            );
            // One byte short, exact, or one more than the records need.
            out = new Uint8Array(Math.max(at + (outLength % 3) - 1, 0));
          }
          // `out` and `ok` with 64 guard bytes after them, which nothing may touch.
          const outGuarded = new Uint8Array(out.length + 64).fill(7);
          out = outGuarded.subarray(0, out.length);
          const okGuarded = new Uint8Array(n + 64).fill(9);
          const ok = okGuarded.subarray(0, n);
          const input = Uint8Array.from(bytes);
          let threw = false;
          try {
            addon.openBatch(bytes, ends, out, ok);
            opened++;
          } catch (err) {
            expect(err).toBeInstanceOf(TypeError);
            threw = true;
          }
          expect(bytes).toEqual(input);
          expect(outGuarded.subarray(out.length).every((b) => b === 7)).toBe(true);
          expect(okGuarded.subarray(n).every((b) => b === 9)).toBe(true);
          if (threw) {
            expect(out.every((b) => b === 7)).toBe(true);
            expect(ok.every((b) => b === 9)).toBe(true);
          } else expect(ok.every((b) => b === 0)).toBe(true);
        },
      ),
      { numRuns: 3_000 },
    );
    expect(opened).toBeGreaterThan(500);
  });

  it('an output shorter than the batch, or arrays of the wrong kind', () => {
    const ends = new Uint32Array([54, 94, 114]);
    expect(() => addon.openBatch(record, ends, new Uint8Array(10), new Uint8Array(1))).toThrow(
      TypeError,
    );
    expect(() =>
      addon.openBatch(record, new Uint8Array(12) as never, record, new Uint8Array(1)),
    ).toThrow(TypeError);
    expect(() => (addon.openBatch as (...a: unknown[]) => void)(record)).toThrow(TypeError);
  });
});
