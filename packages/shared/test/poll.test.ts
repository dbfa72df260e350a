import { expect, it } from 'vitest';
import { voterSelection } from '../src/poll.js';
import { transformer } from '../src/transformer.js';

const selected = Object.freeze(['a'.repeat(64)]);

it('keeps a voter name only when there is one, so the wire needs no undefined', () => {
  const nameless = voterSelection({
    voter: '1@s.whatsapp.net',
    name: undefined,
    selected,
    timestampMs: 5,
  });
  expect(Object.keys(nameless)).toEqual(['voter', 'selected', 'timestampMs']);
  // Plain JSON: tRPC sends it without superjson's annotations.
  expect(transformer.serialize({ voters: [nameless] })).toEqual({ json: { voters: [nameless] } });

  const named = voterSelection({ voter: '2@lid', name: 'Ana', selected, timestampMs: 6 });
  expect(named).toEqual({ voter: '2@lid', name: 'Ana', selected, timestampMs: 6 });
  expect(named.selected).toBe(selected);
});
