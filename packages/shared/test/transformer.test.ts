import fc from 'fast-check';
import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import { transformer } from '../src/transformer.js';

/** Through the wire as tRPC sends it: serialize, JSON text, parse, deserialize. */
const trip = (
  serialize: (v: unknown) => unknown,
  deserialize: (v: never) => unknown,
  value: unknown,
): unknown => deserialize(JSON.parse(JSON.stringify(serialize(value))) as never);

/** Values superjson has to annotate, mixed into JSON. */
const special = fc.oneof(
  fc.date({ noInvalidDate: true }),
  fc.constant(undefined),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0),
  fc.bigInt(),
  fc.array(fc.integer()).map((a) => new Set(a)),
  fc.array(fc.tuple(fc.string(), fc.integer())).map((e) => new Map(e)),
);
/** Keys superjson refuses outright (prototype pollution): they have a test of their own. */
const REFUSED = new Set(['__proto__', 'constructor', 'prototype']);
const hasRefusedKey = (v: unknown): boolean =>
  typeof v === 'object' &&
  v !== null &&
  (Array.isArray(v)
    ? v.some(hasRefusedKey)
    : // Plain objects, also those without a prototype (fast-check makes both).
      [Object.prototype, null].includes(Object.getPrototypeOf(v)) &&
      Object.entries(v).some(([k, x]) => REFUSED.has(k) || hasRefusedKey(x)));
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 2 }),
    special,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 4 }),
  ),
}));

describe('the tRPC transformer', () => {
  it('reads and writes what superjson does, both ways, for any value', () => {
    fc.assert(
      fc.property(value, (v) => {
        fc.pre(!hasRefusedKey(v));
        const reference = trip(superjson.serialize, superjson.deserialize, v);
        // Our server to a superjson client, a superjson server to our client, ours to ours.
        expect(trip(transformer.serialize, superjson.deserialize, v)).toStrictEqual(reference);
        expect(trip(superjson.serialize, transformer.deserialize, v)).toStrictEqual(reference);
        expect(trip(transformer.serialize, transformer.deserialize, v)).toStrictEqual(reference);
      }),
      { numRuns: 2_000 },
    );
  });

  it('sends plain JSON as superjson would, byte for byte, without annotations', () => {
    const event = {
      type: 'votes',
      polls: [
        {
          pollId: '3EB0AA',
          changes: [{ voter: '1555@s.whatsapp.net', selected: ['ab'], timestampMs: 1_700_000 }],
          counts: [{ name: 'Pizza', hash: 'ab', count: 1 }],
        },
      ],
    };
    expect(JSON.stringify(transformer.serialize(event))).toBe(
      JSON.stringify(superjson.serialize(event)),
    );
    // Without superjson's walk: the value itself goes out, and comes back without a copy.
    expect((transformer.serialize(event) as { json: unknown }).json).toBe(event);
    const received = { json: { a: 1 } };
    expect(transformer.deserialize(received)).toBe(received.json);
  });

  it('keeps what superjson annotates: dates, undefined, NaN, -0, maps, sets', () => {
    const v = { at: new Date(5), gone: undefined, n: Number.NaN, z: -0, m: new Map([['a', 1]]) };
    const back = trip(transformer.serialize, transformer.deserialize, v) as typeof v;
    expect(back.at).toEqual(new Date(5));
    expect('gone' in back).toBe(true);
    expect(back.n).toBeNaN();
    expect(Object.is(back.z, -0)).toBe(true);
    expect(back.m).toEqual(new Map([['a', 1]]));
  });

  it('refuses prototype-polluting keys as superjson does', () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
    expect(() => transformer.serialize(hostile)).toThrow(/prototype pollution/);
  });
});
