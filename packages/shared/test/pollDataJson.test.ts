import fc from 'fast-check';
import { expect, it } from 'vitest';
import { toPollData } from '../src/compat.js';
import { optionHash } from '../src/node/hash.js';
import type { Poll } from '../src/poll.js';
import {
  allPollDataJson,
  allPollDataJsonParts,
  pollDataJson,
  pollUpdateJson,
} from '../src/pollDataJson.js';
import { Selections } from '../src/selections.js';

// Option names as people write them, and the ones JSON treats specially: array-index-like
// names ("2" is written before "1b"), quotes, backslashes, control characters, emoji.
const optionName = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.nat({ max: 20 }).map(String),
  fc.constantFrom('Café', 'Park 🌳', 'say "hi"', 'a\\b', 'line\nbreak', '\u0000', '__proto__'),
);

const poll = fc
  .record({
    names: fc.uniqueArray(optionName, { minLength: 1, maxLength: 12 }),
    voterIds: fc.uniqueArray(fc.nat({ max: 10_000 }), { maxLength: 40 }),
    picks: fc.array(fc.nat(), { maxLength: 40 }),
    question: fc.string({ minLength: 1, maxLength: 30 }),
    id: fc.string({ minLength: 1, maxLength: 24 }),
    createdAt: fc.nat(),
    selectableCount: fc.nat({ max: 12 }),
    shared: fc.boolean(),
  })
  .map((r): Poll => {
    const options = r.names.map((name) => ({ name, hash: optionHash(name) }));
    const selections = new Selections(options.map((o) => o.hash));
    const voters = r.voterIds
      .map((n, i) => {
        const pick = r.picks[i] ?? i;
        const chosen = options.filter(
          (_, k) => ((pick >> k) & 1) === 1 || k === pick % options.length,
        );
        const hashes = chosen.map((o) => o.hash);
        return {
          // JIDs as WhatsApp writes them, and ids that JSON must escape.
          voter: [`${n}@s.whatsapp.net`, `${n}@lid`, `q"${n}\\ü@lid`][n % 3]!,
          ...(n % 3 === 0 ? { name: `Voter ${n}` } : {}),
          // Shared frozen arrays, as the read model holds them, or plain ones.
          selected: r.shared ? selections.split(hashes).selected : hashes,
          timestampMs: 1_700_000_000_000 + n,
        };
      })
      .sort((a, b) => (a.voter < b.voter ? -1 : a.voter > b.voter ? 1 : 0));
    return {
      id: r.id,
      chatId: '123-456@g.us',
      creator: { jid: '1@s.whatsapp.net', fromMe: true },
      question: r.question,
      options,
      selectableCount: r.selectableCount,
      createdAt: r.createdAt,
      voters,
      unknownOptionVotes: 0,
      version: voters.length,
    };
  });

it('writes a poll byte for byte as JSON.stringify of its compat objects', () => {
  fc.assert(
    fc.property(poll, (p) => {
      expect(pollDataJson(p)).toBe(JSON.stringify(toPollData(p)));
      expect(pollUpdateJson(p)).toBe(JSON.stringify({ pollMsgId: p.id, ...toPollData(p) }));
      // Twice: the second time from the selections' remembered JSON.
      expect(pollDataJson(p)).toBe(JSON.stringify(toPollData(p)));
    }),
    { numRuns: 300 },
  );
});

it('writes every poll as JSON.stringify of the pollMsgId -> poll data object', () => {
  // Ids as WhatsApp makes them, and ids JSON would reorder (array indices) or repeat.
  const id = fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.nat({ max: 50 }).map(String));
  const polls = fc.array(
    fc.tuple(poll, id).map(([p, pollId]) => ({ ...p, id: pollId })),
    { maxLength: 8 },
  );
  fc.assert(
    fc.property(polls, (list) => {
      const object = Object.fromEntries(list.map((p) => [p.id, toPollData(p)]));
      expect(allPollDataJson(list)).toBe(JSON.stringify(object));
      // From what stands for each poll, made whole one at a time, only when written.
      const made: string[] = [];
      const byIndex = list.map((p, n) => ({ id: p.id, n }));
      const parts = allPollDataJsonParts(byIndex, ({ n }) => {
        made.push(list[n]!.id);
        return list[n]!;
      });
      expect([...parts].join('')).toBe(JSON.stringify(object));
      expect(made).toEqual(Object.keys(object));
    }),
    { numRuns: 300 },
  );
});
