import type { Poll, PollEvent, VoteChange } from '@pollmasters/shared';
import { optionHash } from '@pollmasters/shared/node';
import type { PollReadModel, PollUpdate } from '../src/session/readModel.js';

/** A poll with options Yes and No, no voters, version `version`. */
export const poll = (id: string, version = 0, voters: Poll['voters'] = []): Poll => ({
  id,
  chatId: '123@g.us',
  creator: { jid: '15550000001@s.whatsapp.net', fromMe: true },
  question: `q ${id}`,
  options: ['Yes', 'No'].map((name) => ({ name, hash: optionHash(name) })),
  selectableCount: 1,
  createdAt: 1,
  voters,
  unknownOptionVotes: 0,
  version,
});

const change = (pollId: string, voter: string, selected: string[], version: number) =>
  ({
    pollId,
    voter,
    selected,
    unknownHashes: 0,
    timestampMs: 1_700 + version,
    version,
  }) as VoteChange;

/**
 * One stored batch over polls `a` and `b` (which `model` must hold at version 0), applied as
 * the server applies it: shared selection arrays, a voter with a name that needs escaping and
 * one without, a withdrawal, unknown hashes, two polls in one batch.
 */
export const applyMixedBatch = (model: PollReadModel): PollUpdate[] => {
  const [yes, no] = ['Yes', 'No'].map(optionHash) as [string, string];
  const changes = [
    { ...change('a', 'x@s.whatsapp.net', [yes], 1), name: 'Zoë "X" \\ \u2028' },
    change('b', 'y@lid', [no, 'f'.repeat(64)], 1),
    { ...change('a', 'x@s.whatsapp.net', [], 2), unknownHashes: 1 },
    change('a', 'z@s.whatsapp.net', [yes], 3),
  ];
  return [...model.apply(changes).values()];
};

/** A batch of one vote for Yes in poll `pollId` at `version`. */
export const applyOneVote = (
  model: PollReadModel,
  pollId: string,
  voter: string,
  version: number,
) => [...model.apply([change(pollId, voter, [optionHash('Yes')], version)]).values()];

/**
 * The `votes` event of these updates as a plain object, its properties in the contract's
 * order: what `polls.updates` sent before the event log kept its events as text, and what
 * a client must still receive, byte for byte (`JSON.stringify` of it).
 */
export const votesEvent = (updates: readonly PollUpdate[]): PollEvent => ({
  type: 'votes',
  polls: updates.map((u) => ({
    pollId: u.pollId,
    chatId: u.chatId,
    version: u.version,
    changes: u.changes,
    counts: u.counts,
    voterCount: u.voterCount,
    unknownOptionVotes: u.unknownOptionVotes,
  })),
});
