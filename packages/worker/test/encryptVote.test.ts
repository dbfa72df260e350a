import { optionHash } from '@pollmasters/shared/node';
import { decryptPollVote } from '@whiskeysockets/baileys';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encryptVote } from '../src/votes/encryptVote.js';

const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
/** A person as WhatsApp names them: by phone number and by LID. */
const person = fc.record({
  pn: digits(8, 15).map((d) => `${d}@s.whatsapp.net`),
  lid: digits(12, 15).map((d) => `${d}@lid`),
});
const form = fc.constantFrom('pn' as const, 'lid' as const);
/** Up to 12 distinct option texts, with what the account selects of them. */
const pollAndSelection = fc
  .uniqueArray(fc.string({ minLength: 1, maxLength: 100 }), { minLength: 1, maxLength: 12 })
  .chain((options) => fc.record({ options: fc.constant(options), selected: fc.subarray(options) }));

const vote = fc.record({
  pollMsgId: fc.stringMatching(/^3EB0[0-9A-F]{16,28}$/),
  secret: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  creator: person,
  creatorForm: form,
  voter: person,
  voterForm: form,
  poll: pollAndSelection,
});

describe('encryptVote', () => {
  it('decrypts with Baileys decryptPollVote for any selection and any LID or PN pair', () => {
    fc.assert(
      fc.property(vote, (v) => {
        const hashes = v.poll.selected.map(optionHash);
        const ctx = {
          pollMsgId: v.pollMsgId,
          pollEncKey: v.secret,
          pollCreatorJid: v.creator[v.creatorForm],
          voterJid: v.voter[v.voterForm],
        };
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
        const ctx = {
          pollMsgId: v.pollMsgId,
          pollEncKey: v.secret,
          pollCreatorJid: v.creator[v.creatorForm],
          voterJid: v.voter[v.voterForm],
        };
        const encrypted = encryptVote(v.poll.selected.map(optionHash), ctx);
        // The same person in the other form is another voter to the cipher, as anyone else is.
        const otherForm = v.voterForm === 'pn' ? 'lid' : 'pn';
        expect(() =>
          decryptPollVote(encrypted, { ...ctx, voterJid: v.voter[otherForm] }),
        ).toThrow();
        const otherCreator = v.creatorForm === 'pn' ? 'lid' : 'pn';
        expect(() =>
          decryptPollVote(encrypted, { ...ctx, pollCreatorJid: v.creator[otherCreator] }),
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
