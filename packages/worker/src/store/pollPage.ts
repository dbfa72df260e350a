import { byVoter, type Poll } from '@pollmasters/shared';
import type { StoredPoll } from './storedPoll.js';

/** The public view of a poll: voters with a non-empty selection. */
export const publicPoll = (p: StoredPoll): Poll => {
  const voters = [];
  for (const v of p.voters.values()) {
    if (v.selected.length === 0) continue;
    voters.push(v);
  }
  voters.sort(byVoter);
  return {
    id: p.id,
    chatId: p.chatId,
    creator: p.creator,
    question: p.question,
    options: p.options,
    selectableCount: p.selectableCount,
    createdAt: p.createdAt,
    voters,
    unknownOptionVotes: p.unknownOptionVotes,
    version: p.version,
  };
};

/**
 * A page of polls by id, after `after` (from the first when null), up to the one that
 * reaches `maxVoters` voters; `next` is its last id, or null when no poll follows.
 */
export const pageOf = (
  all: ReadonlyMap<string, StoredPoll>,
  after: string | null,
  maxVoters: number,
): { polls: Poll[]; next: string | null } => {
  const ids = [...all.keys()].filter((id) => after === null || id > after).sort();
  const polls: Poll[] = [];
  let voters = 0;
  for (const id of ids) {
    if (polls.length > 0 && voters >= maxVoters) break;
    const poll = publicPoll(all.get(id)!);
    polls.push(poll);
    voters += poll.voters.length;
  }
  return { polls, next: polls.length < ids.length ? polls.at(-1)!.id : null };
};
