import { describe, expect, it } from 'vitest';
import { optionHash } from '../src/node/hash.js';
import { Selections } from '../src/selections.js';

const [A, B, C] = ['A', 'B', 'C'].map(optionHash) as [string, string, string];
const STRANGER = 'f'.repeat(64);

describe('Selections', () => {
  it('keeps known options in option order, once each, and counts the unknown hashes', () => {
    const s = new Selections([A, B, C]);
    expect(s.split([C, A, C, STRANGER, STRANGER])).toEqual({ selected: [A, C], unknown: 1 });
    expect(s.split([])).toEqual({ selected: [], unknown: 0 });
    expect(s.split([STRANGER])).toEqual({ selected: [], unknown: 1 });
  });

  it('gives every voter with the same selection one shared array, which cannot be changed', () => {
    const s = new Selections([A, B, C]);
    const first = s.split([B, A]).selected;
    expect(s.split([A, B]).selected).toBe(first);
    expect(s.split([A, B, STRANGER]).selected).toBe(first);
    expect(s.split([A]).selected).not.toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('splits the same way, without sharing, for a poll of more options than a mask holds', () => {
    const many = Array.from({ length: 40 }, (_, i) => optionHash(`option ${i}`));
    const s = new Selections(many);
    const picked = s.split([many[35]!, many[2]!, STRANGER, many[2]!]);
    expect(picked).toEqual({ selected: [many[2], many[35]], unknown: 1 });
    expect(s.split([many[2]!, many[35]!]).selected).not.toBe(picked.selected);
  });
});
