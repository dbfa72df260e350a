import {
  byVoter,
  newestFirst,
  type OptionCount,
  type Poll,
  type PollEvent,
  type PollVotes,
} from '@pollmasters/shared';

/** One vote as it arrived: a first vote, a changed one, or a withdrawal (empty selection). */
export interface TimelineEntry {
  pollId: string;
  voter: string;
  name?: string | undefined;
  selected: readonly string[];
  kind: 'voted' | 'changed' | 'withdrew';
  timestampMs: number;
  /** The poll's version after it: unique within the poll. */
  version: number;
}

export interface LivePoll {
  poll: Poll;
  counts: OptionCount[];
}

/** Vote changes kept per poll for the timeline (the newest). */
const TIMELINE_MAX = 500;

/**
 * The polls of one session as `polls.updates` tells them. Every change carries the poll's
 * version after it, and a change is applied only when it is newer than what is held: an event
 * that comes again after a reconnect (or a resync's whole state followed by events it already
 * contains) can never count a vote twice, and none is lost because the subscription resumes
 * from its last event id.
 */
export class PollStore {
  readonly polls = new Map<string, LivePoll>();
  readonly timelines = new Map<string, TimelineEntry[]>();
  /** Whether the first `synced` came: the list is complete. */
  synced = false;
  /** Bumped on every change, for React to notice. */
  revision = 0;

  apply(event: PollEvent): void {
    switch (event.type) {
      case 'synced':
        this.synced = true;
        break;
      case 'pollSent':
      case 'pollState': {
        const held = this.polls.get(event.poll.id);
        if (held && held.poll.version > event.poll.version) return;
        this.polls.set(event.poll.id, { poll: event.poll, counts: event.counts });
        break;
      }
      case 'votes':
        for (const votes of event.polls) this.applyVotes(votes);
        break;
    }
    this.revision += 1;
  }

  private applyVotes(votes: PollVotes): void {
    const held = this.polls.get(votes.pollId);
    if (!held || held.poll.version >= votes.version) return;
    const voters = new Map(held.poll.voters.map((v) => [v.voter, v]));
    const timeline = this.timelines.get(votes.pollId) ?? [];
    for (const change of votes.changes) {
      if (change.version <= held.poll.version) continue;
      const before = voters.get(change.voter);
      if (change.selected.length === 0) voters.delete(change.voter);
      else {
        voters.set(change.voter, {
          voter: change.voter,
          ...(change.name !== undefined ? { name: change.name } : {}),
          selected: change.selected,
          timestampMs: change.timestampMs,
        });
      }
      timeline.push({
        pollId: votes.pollId,
        voter: change.voter,
        name: change.name ?? before?.name,
        selected: change.selected,
        kind: change.selected.length === 0 ? 'withdrew' : before ? 'changed' : 'voted',
        timestampMs: change.timestampMs,
        version: change.version,
      });
    }
    if (timeline.length > TIMELINE_MAX) timeline.splice(0, timeline.length - TIMELINE_MAX);
    this.timelines.set(votes.pollId, timeline);
    const sorted = [...voters.values()].sort(byVoter);
    this.polls.set(votes.pollId, {
      poll: {
        ...held.poll,
        voters: sorted,
        version: votes.version,
        unknownOptionVotes: votes.unknownOptionVotes,
      },
      counts: votes.counts,
    });
  }

  /** Newest first, as every list of polls is. */
  list(): LivePoll[] {
    return [...this.polls.values()].sort((a, b) => newestFirst(a.poll, b.poll));
  }
}
