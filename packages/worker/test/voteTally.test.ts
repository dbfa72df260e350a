import { Selections, StringPool, VoterTable } from '@pollmasters/shared';
import { optionHash } from '@pollmasters/shared/node';
import { describe, expect, it } from 'vitest';
import type { StoredPoll } from '../src/store/storedPoll.js';
import { VoteTally } from '../src/webhooks/voteTally.js';

// Issue #19: the tally a poll.vote event carries, kept vote by vote.

const [A, B, C] = ['A', 'B', 'C'].map(optionHash) as [string, string, string];
const poll = (): StoredPoll =>
  ({
    id: 'p',
    options: [A, B, C].map((hash, i) => ({ name: 'ABC'[i]!, hash })),
    voters: new VoterTable(new StringPool()),
    version: 0,
    selections: new Selections([A, B, C]),
  }) as unknown as StoredPoll;

/** Stores a vote as PollStore does (aliases taken over) and returns the count change. */
const vote = (p: StoredPoll, voter: string, selected: string[], aliases: string[] = []) => {
  const versionBefore = p.version;
  const replaced = [voter, ...aliases]
    .map((v) => p.voters.get(v)?.selected)
    .filter((s): s is readonly string[] => s !== undefined);
  for (const a of aliases) if (p.voters.delete(a)) p.version += 1;
  p.voters.set(voter, { selected, timestampMs: 0 });
  p.version += 1;
  return { versionBefore, version: p.version, replaced, selected };
};

const recount = (p: StoredPoll) => {
  const n = new Map([A, B, C].map((h) => [h, 0]));
  for (const v of p.voters.values()) for (const h of v.selected) n.set(h, n.get(h)! + 1);
  return n;
};

describe('VoteTally', () => {
  it('follows changed votes, withdrawals and aliases taken over, as a recount would', () => {
    const p = poll();
    const tally = new VoteTally();
    const steps: [string, string[], string[]?][] = [
      ['1@lid', [A]],
      ['2@s.whatsapp.net', [B]],
      ['1@lid', [A, C]],
      // The LID's vote is taken over by its PN: counted once.
      ['1@s.whatsapp.net', [B], ['1@lid']],
      ['2@s.whatsapp.net', []],
      ['3@lid', [C]],
    ];
    for (const [voter, selected, aliases] of steps) {
      expect(tally.after(p, vote(p, voter, selected, aliases))).toEqual(recount(p));
    }
    expect(Object.fromEntries(tally.after(p, vote(p, '3@lid', [C])))).toEqual({
      [A]: 0,
      [B]: 1,
      [C]: 1,
    });
  });

  it('counts afresh when a vote does not follow the version it knows (events nobody wanted)', () => {
    const p = poll();
    const tally = new VoteTally();
    tally.after(p, vote(p, 'x@lid', [A]));
    vote(p, 'y@lid', [B]); // not seen by the tally
    expect(tally.after(p, vote(p, 'z@lid', [B]))).toEqual(recount(p));
    expect(recount(p).get(B)).toBe(2);
  });
});
