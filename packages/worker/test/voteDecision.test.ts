import { optionHash } from '@pollmasters/shared/node';
import { describe, expect, it } from 'vitest';
import { decide } from '../src/store/voteDecision.js';

const [A, B] = ['A', 'B'].map(optionHash) as [string, string];

describe('decide', () => {
  const stored = { voter: 'v', selected: [A], timestampMs: 10 };
  it('accepts newer votes and different selections at the same time, refuses older ones', () => {
    expect(decide(undefined, stored)).toBe('accept');
    expect(decide(stored, { ...stored, timestampMs: 11 })).toBe('accept');
    expect(decide(stored, { ...stored, selected: [B] })).toBe('accept');
    expect(decide(stored, { ...stored, timestampMs: 9 })).toBe('stale');
  });

  it('takes the same selection at the same time for a redelivery', () => {
    expect(decide(stored, { ...stored, selected: [A] })).toBe('duplicate');
  });
});
