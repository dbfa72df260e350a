import type { PollEvent } from '@pollmasters/client';

/** One event of a `polls.updates` subscription as a client receives it. */
export interface Received {
  id: string;
  data: PollEvent;
}

/**
 * The vote changes of a poll's `votes` events replayed on `from` (no voters by default): each
 * voter's selection after them.
 */
export const replayedVoters = (
  events: readonly Received[],
  pollId: string,
  from: Record<string, readonly string[]> = {},
): Record<string, readonly string[]> => {
  const voters = new Map<string, readonly string[]>(Object.entries(from));
  for (const e of events) {
    if (e.data.type !== 'votes') continue;
    for (const p of e.data.polls) {
      if (p.pollId !== pollId) continue;
      for (const c of p.changes) {
        if (c.selected.length === 0) voters.delete(c.voter);
        else voters.set(c.voter, c.selected);
      }
    }
  }
  return Object.fromEntries(voters);
};
