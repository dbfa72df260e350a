import fc from 'fast-check';

/** Random polls, voters and selections for the vote crypto's property tests. */

const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });

/** A person as WhatsApp names them: by phone number and by LID. */
export const person = fc.record({
  pn: digits(8, 15).map((d) => `${d}@s.whatsapp.net`),
  lid: digits(12, 15).map((d) => `${d}@lid`),
});

const form = fc.constantFrom('pn' as const, 'lid' as const);

/** Up to 12 distinct option texts, with what the voter selects of them. */
const pollAndSelection = fc
  .uniqueArray(fc.string({ minLength: 1, maxLength: 100 }), { minLength: 1, maxLength: 12 })
  .chain((options) => fc.record({ options: fc.constant(options), selected: fc.subarray(options) }));

/** One vote: the poll's id and secret, its creator and voter each signing as PN or LID. */
export const vote = fc.record({
  pollMsgId: fc.stringMatching(/^3EB0[0-9A-F]{16,28}$/),
  secret: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  creator: person,
  creatorForm: form,
  voter: person,
  voterForm: form,
  poll: pollAndSelection,
});
export type Vote = typeof vote extends fc.Arbitrary<infer T> ? T : never;

/** The inputs of `decryptPollVote` for a vote, as it was signed. */
export const contextOf = (v: Vote) => ({
  pollMsgId: v.pollMsgId,
  pollEncKey: v.secret,
  pollCreatorJid: v.creator[v.creatorForm],
  voterJid: v.voter[v.voterForm],
});

/** The other form of a form: the same person is another signer to the cipher. */
export const otherForm = (f: 'pn' | 'lid') => (f === 'pn' ? ('lid' as const) : ('pn' as const));

const anyText = fc.string({ unit: 'binary', maxLength: 120 });
/** A key context with ids and JIDs in any UTF-16 (lone surrogates too), not only WhatsApp's. */
export const anyContext = fc.record({
  pollMsgId: anyText,
  pollEncKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  pollCreatorJid: anyText,
  voterJid: anyText,
});
