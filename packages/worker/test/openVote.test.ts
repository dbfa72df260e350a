import { optionHash } from '@pollmasters/shared/node';
import { decryptPollVote, proto } from '@whiskeysockets/baileys';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encryptVote } from '../src/votes/encryptVote.js';
import { openVote } from '../src/votes/openVote.js';
import { shortTag } from './shortTag.js';
import { anyContext, contextOf, otherForm, person, vote } from './voteArbitraries.js';

type Context = ReturnType<typeof contextOf>;
type Encrypted = { encPayload: Uint8Array; encIv: Uint8Array };

/** What a decryption gives: the vote's bytes, re-encoded, or that it threw. */
const outcome = (decrypt: () => proto.Message.PollVoteMessage): string => {
  try {
    return Buffer.from(proto.Message.PollVoteMessage.encode(decrypt()).finish()).toString('hex');
  } catch {
    return 'throws';
  }
};
const both = (enc: Encrypted, ctx: Context) => ({
  ours: outcome(() => openVote(enc, ctx)),
  baileys: outcome(() => decryptPollVote(enc, ctx)),
});
/** What `both` gives when neither decryption reads the vote. */
const neither = { ours: 'throws', baileys: 'throws' };

describe('openVote (node:crypto) against Baileys decryptPollVote as the oracle', () => {
  it('reads what Baileys reads, for any selection, LID or PN creator and voter', () => {
    fc.assert(
      fc.property(vote, (v) => {
        const ctx = contextOf(v);
        const hashes = v.poll.selected.map(optionHash);
        const { ours, baileys } = both(encryptVote(hashes, ctx), ctx);
        expect(ours).toBe(baileys);
        const read = openVote(encryptVote(hashes, ctx), ctx).selectedOptions ?? [];
        expect(read.map((h) => Buffer.from(h).toString('hex'))).toEqual(hashes);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with Baileys for ids and JIDs in any UTF-8, not only what WhatsApp sends', () => {
    fc.assert(
      fc.property(anyContext, (ctx) => {
        const enc = encryptVote([optionHash('Yes')], ctx);
        const { ours, baileys } = both(enc, ctx);
        expect(ours).toBe(baileys);
        expect(ours).not.toBe('throws');
      }),
      { numRuns: 200 },
    );
  });

  it('fails as Baileys fails for the wrong voter, creator, poll or secret, in either form', () => {
    fc.assert(
      fc.property(vote, person, fc.uint8Array({ minLength: 32, maxLength: 32 }), (v, other, s) => {
        const ctx = contextOf(v);
        const enc = encryptVote(v.poll.selected.map(optionHash), ctx);
        const wrong: Context[] = [
          { ...ctx, voterJid: v.voter[otherForm(v.voterForm)] },
          { ...ctx, voterJid: other.pn },
          { ...ctx, voterJid: other.lid },
          { ...ctx, pollCreatorJid: v.creator[otherForm(v.creatorForm)] },
          { ...ctx, pollCreatorJid: other.lid },
          { ...ctx, pollMsgId: `${ctx.pollMsgId}0` },
        ];
        // Another secret (fast-check may draw the same one: then it is no wrong key).
        if (!Buffer.from(s).equals(Buffer.from(v.secret))) wrong.push({ ...ctx, pollEncKey: s });
        for (const c of wrong) expect(both(enc, c)).toEqual(neither);
      }),
      { numRuns: 200 },
    );
  });

  it('reads what Baileys reads when long and short votes follow each other in any order', () => {
    // openVote copies each payload into buffers it reuses: a vote of many options grows them
    // past their first size, and the votes after it, long or short, must read only their own.
    const many = fc.array(fc.string({ minLength: 1, maxLength: 8 }), {
      minLength: 0,
      maxLength: 40,
    });
    fc.assert(
      fc.property(fc.array(fc.tuple(vote, many), { minLength: 2, maxLength: 6 }), (votes) => {
        for (const [v, names] of votes) {
          const ctx = contextOf(v);
          const hashes = names.map(optionHash);
          const { ours, baileys } = both(encryptVote(hashes, ctx), ctx);
          expect(ours).toBe(baileys);
          expect(ours).not.toBe('throws');
        }
      }),
      { numRuns: 100 },
    );
  });

  it('fails as Baileys fails on a tampered payload or iv', () => {
    fc.assert(
      fc.property(vote, fc.nat(), fc.integer({ min: 1, max: 255 }), (v, at, flip) => {
        const ctx = contextOf(v);
        const enc = encryptVote(v.poll.selected.map(optionHash), ctx);
        const payload = Buffer.from(enc.encPayload);
        payload[at % payload.length]! ^= flip;
        const iv = Buffer.from(enc.encIv);
        iv[at % iv.length]! ^= flip;
        for (const bad of [
          { encPayload: payload, encIv: enc.encIv },
          { encPayload: enc.encPayload, encIv: iv },
        ]) {
          expect(both(bad, ctx)).toEqual(neither);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a tag shorter than 16 bytes, which Baileys takes as a truncated one', () => {
    fc.assert(
      fc.property(vote, fc.constantFrom(4, 8), (v, tagBytes) => {
        const ctx = contextOf(v);
        const { ours, baileys } = both(shortTag(ctx, tagBytes), ctx);
        expect(baileys).toBe('');
        expect(ours).toBe('throws');
      }),
      { numRuns: 100 },
    );
  });
});
