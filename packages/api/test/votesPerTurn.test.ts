import type { VoteChange } from '@pollmasters/shared';
import { describe, expect, it } from 'vitest';
import type { SessionReport } from '../src/session/sessionReport.js';
import { VotesPerTurn } from '../src/session/votesPerTurn.js';

const changes = (pollId: string, from: number, count: number): VoteChange[] =>
  Array.from({ length: count }, (_, i) => ({
    pollId,
    voter: `${from + i}@lid`,
    selected: [],
    unknownHashes: 0,
    timestampMs: 1_700,
    version: from + i,
  }));

const votes = (pollId: string, from: number, count: number): SessionReport => ({
  type: 'votes',
  changes: changes(pollId, from, count),
});

const rejected = (id: string): SessionReport => ({
  type: 'voteRejected',
  rejection: { reason: 'no_pair_authenticates', pollId: 'a', messageId: id, detail: 'test' },
});

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const collect = (maxChanges?: number) => {
  const delivered: SessionReport[] = [];
  const turn = new VotesPerTurn((r) => delivered.push(r), maxChanges);
  return { delivered, turn };
};

describe('VotesPerTurn', () => {
  it('delivers the votes events of one turn once, as one event of all their changes in order', async () => {
    const { delivered, turn } = collect();
    const events = [votes('a', 1, 3), votes('b', 1, 2), votes('a', 4, 1)];
    for (const e of events) turn.add(e);
    expect(delivered).toEqual([]);
    await nextTurn();
    const all = {
      type: 'votes',
      changes: [...changes('a', 1, 3), ...changes('b', 1, 2), ...changes('a', 4, 1)],
    };
    expect(delivered).toEqual([all]);
    // Nothing is delivered twice, and the next turn starts empty.
    await nextTurn();
    turn.add(votes('c', 1, 1));
    await nextTurn();
    expect(delivered).toEqual([all, votes('c', 1, 1)]);
  });

  it('keeps every other report in its place: the votes before it go first, at once', async () => {
    const { delivered, turn } = collect();
    turn.add(votes('a', 1, 2));
    turn.add(votes('a', 3, 2));
    turn.add(rejected('m1'));
    turn.add(rejected('m2'));
    turn.add(votes('a', 5, 1));
    expect(delivered).toEqual([votes('a', 1, 4), rejected('m1'), rejected('m2')]);
    await nextTurn();
    await nextTurn();
    expect(delivered).toEqual([votes('a', 1, 4), rejected('m1'), rejected('m2'), votes('a', 5, 1)]);
  });

  it('delivers what it gathered at once when flushed (before a state the API sets itself)', async () => {
    const { delivered, turn } = collect();
    turn.add(votes('a', 1, 2));
    turn.flush();
    expect(delivered).toEqual([votes('a', 1, 2)]);
    await nextTurn();
    turn.flush();
    expect(delivered).toEqual([votes('a', 1, 2)]);
  });

  it('delivers a long backlog a bounded number of changes at a time, in order', async () => {
    const { delivered, turn } = collect(5);
    for (let from = 1; from <= 12; from += 2) turn.add(votes('a', from, 2));
    await nextTurn();
    expect(delivered).toEqual([votes('a', 1, 6), votes('a', 7, 6)]);
  });
});
