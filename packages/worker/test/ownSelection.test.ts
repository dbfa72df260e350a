import { optionHash } from '@pollmasters/shared/node';
import { describe, expect, it } from 'vitest';
import { resolveSelection } from '../src/votes/ownSelection.js';

const poll = (selectableCount: number) => ({
  options: ['Pizza', 'Pasta', 'Salad'].map((name) => ({ name, hash: optionHash(name) })),
  selectableCount,
});
const [PIZZA, PASTA, SALAD] = ['Pizza', 'Pasta', 'Salad'].map(optionHash) as [
  string,
  string,
  string,
];

describe('resolveSelection', () => {
  it('takes texts, hashes in either case, or both mixed, in the poll option order', () => {
    expect(resolveSelection(poll(0), ['Salad', 'Pizza'])).toEqual([PIZZA, SALAD]);
    expect(resolveSelection(poll(0), [SALAD.toUpperCase(), PASTA])).toEqual([PASTA, SALAD]);
    expect(resolveSelection(poll(2), [SALAD, 'Pasta'])).toEqual([PASTA, SALAD]);
  });

  it('takes an empty list as a withdrawal', () => {
    expect(resolveSelection(poll(1), [])).toEqual([]);
  });

  it('matches texts exactly: no trimming, no case folding', () => {
    expect(() => resolveSelection(poll(0), ['pizza'])).toThrow(
      /not an option of this poll: "pizza"/,
    );
    expect(() => resolveSelection(poll(0), ['Pizza '])).toThrow(/not an option/);
  });

  it('refuses options not in the poll, naming them and the poll options', () => {
    expect(() => resolveSelection(poll(0), ['Pizza', 'Sushi', optionHash('Soup')])).toThrow(
      `not an option of this poll: "Sushi", "${optionHash('Soup')}" (its options: "Pizza", "Pasta", "Salad")`,
    );
  });

  it('refuses an option given twice, also once by text and once by hash', () => {
    expect(() => resolveSelection(poll(0), ['Pizza', PIZZA])).toThrow(
      'given more than once: "Pizza"',
    );
  });

  it('refuses more options than selectableCount allows; 0 allows any number', () => {
    expect(() => resolveSelection(poll(1), ['Pizza', 'Pasta'])).toThrow(
      'this poll allows at most 1 option per vote; got 2',
    );
    expect(resolveSelection(poll(0), ['Pizza', 'Pasta', 'Salad'])).toEqual([PIZZA, PASTA, SALAD]);
  });

  it('fails with BAD_INPUT', () => {
    expect(() => resolveSelection(poll(1), ['x'])).toThrow(
      expect.objectContaining({ code: 'BAD_INPUT' }),
    );
  });
});
