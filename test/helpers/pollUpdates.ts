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

/** A poll as a subscriber holds it after replaying its events. */
export interface ReplayedPoll {
  version: number;
  voters: Map<string, readonly string[]>;
}

/**
 * Replays `polls.updates` events as a client applies them: a `pollSent` or `pollState` sets a
 * poll's whole state, a `votes` change applies on top. Throws on an update that comes twice or
 * out of order (a state not newer than what the client holds, a change not the next version).
 */
export const replayInOrder = (events: readonly Received[]): Map<string, ReplayedPoll> => {
  const polls = new Map<string, ReplayedPoll>();
  for (const { id, data } of events) {
    if (data.type === 'pollSent' || data.type === 'pollState') {
      const known = polls.get(data.poll.id);
      if (known && data.poll.version <= known.version) {
        throw new Error(
          `${id}: poll ${data.poll.id} v${data.poll.version} after v${known.version}`,
        );
      }
      polls.set(data.poll.id, {
        version: data.poll.version,
        voters: new Map(data.poll.voters.map((v) => [v.voter, v.selected])),
      });
    } else if (data.type === 'votes') {
      for (const p of data.polls) {
        const known = polls.get(p.pollId);
        if (!known) throw new Error(`${id}: votes of ${p.pollId} before its poll`);
        for (const c of p.changes) {
          // Each change is the next version: a jump is a change lost, a step back one twice.
          if (c.version !== known.version + 1) {
            throw new Error(`${id}: poll ${p.pollId} change v${c.version} after v${known.version}`);
          }
          known.version = c.version;
          if (c.selected.length === 0) known.voters.delete(c.voter);
          else known.voters.set(c.voter, c.selected);
        }
      }
    }
  }
  return polls;
};
