import type { Poll, VoteChange } from '@pollmasters/shared';
import { expect, it } from 'vitest';
import { type Cast, missingAcked } from './helpers/votes.js';

// The shape of the kill -9 runs that failed (docs/performance.md, "Session 9: kill -9 flake"):
// a vote announced, then its voter's withdrawal stored but not yet heard by the client.
const poll = (voters: Poll['voters']): Poll => ({
  id: 'P',
  chatId: 'g@g.us',
  creator: { jid: 'me@s.whatsapp.net', fromMe: true },
  question: 'q',
  options: [{ name: 'maybe', hash: 'h' }],
  selectableCount: 1,
  createdAt: 0,
  voters,
  unknownOptionVotes: 0,
  version: 2,
});
const voter = '15554657681@s.whatsapp.net';
const acked: VoteChange[] = [
  { pollId: 'P', voter, selected: ['h'], unknownHashes: 0, timestampMs: 439, version: 1 },
];
const cast = (selectedOptions: string[], senderTimestampMs: number): Cast => ({
  pollId: 'P',
  voterId: voter,
  selectedOptions,
  senderTimestampMs,
});

it('a voter absent after an acknowledged vote is missing unless they withdrew after it', () => {
  expect(missingAcked([poll([])], acked, [cast(['maybe'], 439), cast([], 824)])).toEqual([]);
  expect(missingAcked([poll([])], acked, [cast(['maybe'], 439)])).toEqual([`P/${voter}`]);
  // A withdrawal older than the acknowledged vote explains nothing.
  expect(missingAcked([poll([])], acked, [cast([], 400), cast(['maybe'], 439)])).toEqual([
    `P/${voter}`,
  ]);
  // An older vote in its place is a loss whatever was cast.
  const older = poll([{ voter, selected: ['h'], timestampMs: 400 }]);
  expect(missingAcked([older], acked, [cast([], 824)])).toEqual([`P/${voter}`]);
  expect(missingAcked([poll([{ voter, selected: ['h'], timestampMs: 439 }])], acked, [])).toEqual(
    [],
  );
});
