import { optionHash } from '@pollmasters/shared/node';
import { decryptPollVote } from '@whiskeysockets/baileys';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encryptVote } from '../src/votes/encryptVote.js';
import { contextOf, otherForm, vote } from './voteArbitraries.js';

describe('encryptVote', () => {
  it('decrypts with Baileys decryptPollVote for any selection and any LID or PN pair', () => {
    fc.assert(
      fc.property(vote, (v) => {
        const hashes = v.poll.selected.map(optionHash);
        const ctx = contextOf(v);
        const decrypted = decryptPollVote(encryptVote(hashes, ctx), ctx);
        const read = (decrypted.selectedOptions ?? []).map((h) => Buffer.from(h).toString('hex'));
        expect(read).toEqual(hashes);
      }),
      { numRuns: 300 },
    );
  });

  it('does not decrypt for another voter or another creator JID', () => {
    fc.assert(
      fc.property(vote, (v) => {
        const ctx = contextOf(v);
        const encrypted = encryptVote(v.poll.selected.map(optionHash), ctx);
        // The same person in the other form is another voter to the cipher, as anyone else is.
        expect(() =>
          decryptPollVote(encrypted, { ...ctx, voterJid: v.voter[otherForm(v.voterForm)] }),
        ).toThrow();
        expect(() =>
          decryptPollVote(encrypted, {
            ...ctx,
            pollCreatorJid: v.creator[otherForm(v.creatorForm)],
          }),
        ).toThrow();
      }),
      { numRuns: 100 },
    );
  });

  it('uses a fresh iv for every vote', () => {
    const ctx = {
      pollMsgId: '3EB0AAAA',
      pollEncKey: new Uint8Array(32).fill(7),
      pollCreatorJid: '1@lid',
      voterJid: '2@lid',
    };
    const a = encryptVote([optionHash('Yes')], ctx);
    const b = encryptVote([optionHash('Yes')], ctx);
    expect(a.encIv).toHaveLength(12);
    expect(a.encIv.equals(b.encIv)).toBe(false);
    expect(a.encPayload.equals(b.encPayload)).toBe(false);
  });
});
