import { optionHash } from '@pollmasters/shared/node';
import { describe, expect, it } from 'vitest';
import type { StoredPoll } from '../src/store/storedPoll.js';
import { pollVoteData } from '../src/webhooks/voteEvent.js';

// Issue #19: the `poll.vote` data a receiver gets for an accepted vote.

const [A, B, C] = ['A', 'B', 'C'].map(optionHash) as [string, string, string];
const poll = {
  id: 'p',
  chatId: 'g@g.us',
  options: [A, B, C].map((hash, i) => ({ name: 'ABC'[i]!, hash })),
} as unknown as StoredPoll;
const counts = new Map([
  [A, 3],
  [B, 0],
  [C, 7],
]);
const change = (selected: string[], name?: string) => ({
  pollId: 'p',
  voter: 'x',
  name,
  selected,
  unknownHashes: 0,
  timestampMs: 1_700_000_000_000,
  version: 9,
});

describe('poll.vote data', () => {
  it('names what the vote added, removed and selected, in the order the vote gave them', () => {
    const data = pollVoteData(
      poll,
      change([C, A], 'Ann'),
      [B, A],
      { id: '111@lid', aliases: ['491701234567@s.whatsapp.net'] },
      counts,
    );
    expect(data).toEqual({
      pollId: 'p',
      chatId: 'g@g.us',
      voter: {
        id: '111@lid',
        jid: '491701234567@s.whatsapp.net',
        lid: '111@lid',
        name: 'Ann',
      },
      added: [{ name: 'C', hash: C }],
      removed: [{ name: 'B', hash: B }],
      selected: [
        { name: 'C', hash: C },
        { name: 'A', hash: A },
      ],
      tally: [
        { name: 'A', count: 3 },
        { name: 'B', count: 0 },
        { name: 'C', count: 7 },
      ],
      votedAt: 1_700_000_000_000,
      version: 9,
    });
  });

  it('reports a withdrawal as everything removed, and an unknown id kind as null', () => {
    const data = pollVoteData(poll, change([]), [A, C], { id: 'x@broadcast', aliases: [] }, counts);
    expect(data.voter).toEqual({ id: 'x@broadcast', jid: null, lid: null, name: null });
    expect(data.added).toEqual([]);
    expect(data.removed).toEqual([
      { name: 'A', hash: A },
      { name: 'C', hash: C },
    ]);
    expect(data.selected).toEqual([]);
  });
});
