import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StringPool, type VoterSelection, VoterTable } from '../src/index.js';

// Issue #21: a poll's voters in columns behave as the Map of objects they replace.

const CHOICES: (readonly string[])[] = [[], ['a'], ['b'], ['a', 'b'], ['c']];

type Op =
  | { kind: 'set'; voter: number; name: number | null; choice: number; time: number }
  | { kind: 'delete'; voter: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      voter: fc.nat(60),
      name: fc.option(fc.nat(5)),
      choice: fc.nat(CHOICES.length - 1),
      time: fc.integer({ min: 0, max: 2 ** 45 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), voter: fc.nat(70) }) },
);

/** How many other strings the pool holds before each of the 71 voters. */
const gaps = fc.array(fc.nat(300), { minLength: 71, maxLength: 71 });

const jid = (n: number) => `${n}@lid`;
const sorted = (vs: Iterable<VoterSelection>) =>
  [...vs].sort((a, b) => (a.voter < b.voter ? -1 : a.voter > b.voter ? 1 : 0));

describe('VoterTable', () => {
  it('answers get, has, size, delete, values and voter order as a Map of its voters would', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), gaps, (ops, gapsBefore) => {
        // Two tables on one pool, as the polls of a session share theirs; the voters' ids in
        // it far apart (other polls' voters between them), so that they collide in the index.
        const pool = new StringPool();
        gapsBefore.forEach((gap, n) => {
          for (let i = 0; i < gap; i += 1) pool.idOf(`other ${n} ${i}`);
          pool.idOf(jid(n));
        });
        const table = new VoterTable(pool);
        new VoterTable(pool).set(jid(1000), { selected: ['z'], timestampMs: 1 });
        const model = new Map<string, VoterSelection>();
        // Voters in voter order, as a sorted Poll holds them: read between the changes too, so
        // that the order kept from one read to the next is checked as it is extended.
        const inOrder = () => {
          const seen: [string, string][] = [];
          table.forEachInOrder((voter, selected) => seen.push([voter, selected.join()]));
          expect(seen).toEqual(sorted(model.values()).map((v) => [v.voter, v.selected.join()]));
        };
        for (const [i, o] of ops.entries()) {
          if (i % 7 === 0) inOrder();
          const voter = jid(o.voter);
          if (o.kind === 'delete') {
            expect(table.delete(voter)).toBe(model.delete(voter));
            continue;
          }
          // A copy of the choice: the table keeps one array per distinct selection.
          const selected = [...CHOICES[o.choice]!];
          const v: VoterSelection =
            o.name === null
              ? { voter, selected, timestampMs: o.time }
              : { voter, name: `Name ${o.name}`, selected, timestampMs: o.time };
          // `put` (half the time) answers the selection before, as the map holds it.
          if (i % 2 === 0) expect(table.put(voter, v)).toEqual(model.get(voter)?.selected);
          else table.set(voter, v);
          model.set(voter, v);
        }
        expect(table.size).toBe(model.size);
        expect(sorted(table.values())).toEqual(sorted(model.values()));
        inOrder();
        for (let n = 0; n <= 70; n += 1) {
          expect(table.has(jid(n))).toBe(model.has(jid(n)));
          expect(table.get(jid(n))).toEqual(model.get(jid(n)));
          expect(table.selectedOf(jid(n))).toEqual(model.get(jid(n))?.selected);
        }
        const selections: (readonly string[])[] = [];
        table.forEachSelection((s) => selections.push(s));
        expect(selections.map((s) => s.join()).sort()).toEqual(
          [...model.values()].map((v) => v.selected.join()).sort(),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('keeps one array per distinct selection and each voter id and name once', () => {
    const pool = new StringPool();
    const polls = [new VoterTable(pool), new VoterTable(pool)];
    for (const table of polls) {
      for (let n = 0; n < 1_000; n += 1) {
        table.set(jid(n), { name: `Voter ${n}`, selected: [n % 2 ? 'a' : 'b'], timestampMs: n });
      }
    }
    expect(pool.size).toBe(2_000);
    const a = polls[0]!.get(jid(1))!.selected;
    expect(polls[0]!.get(jid(3))!.selected).toBe(a);
    expect(polls[1]!.get(jid(999))).toEqual({
      voter: jid(999),
      name: 'Voter 999',
      selected: ['a'],
      timestampMs: 999,
    });
  });
});
