import {
  byVoter,
  newestFirst,
  type Poll,
  type VoteChange,
  type VoterSelection,
} from '@pollmasters/shared';

interface Entry {
  poll: Omit<Poll, 'voters'>;
  voters: Map<string, VoterSelection>;
  /** The materialised Poll, rebuilt only after a change. */
  cached: Poll | null;
}

/**
 * The API's copy of every poll: filled from the worker's snapshot, kept current by its
 * events. Reads never wait on the worker. Changes are applied by version, so a replayed or
 * older change is ignored and no reader sees an older state after a newer one.
 */
export class PollReadModel {
  private readonly entries = new Map<string, Entry>();

  /** Replaces everything with a snapshot; returns the polls that are new or changed. */
  reset(polls: readonly Poll[]): Poll[] {
    const changed: Poll[] = [];
    const seen = new Set<string>();
    for (const poll of polls) {
      seen.add(poll.id);
      const before = this.entries.get(poll.id);
      if (before && before.poll.version >= poll.version) continue;
      this.put(poll);
      changed.push(poll);
    }
    for (const id of this.entries.keys()) if (!seen.has(id)) this.entries.delete(id);
    return changed;
  }

  /** Adds a poll (or a newer state of it). */
  put(poll: Poll): void {
    const { voters, ...rest } = poll;
    this.entries.set(poll.id, {
      poll: rest,
      voters: new Map(voters.map((v) => [v.voter, v])),
      cached: poll,
    });
  }

  /**
   * Applies accepted votes in order. Returns, per poll that changed, its new state and the
   * changes that made it (changes for unknown polls or already applied versions are skipped).
   */
  apply(changes: readonly VoteChange[]): Map<string, { poll: Poll; changes: VoteChange[] }> {
    const touched = new Map<string, VoteChange[]>();
    for (const change of changes) {
      const entry = this.entries.get(change.pollId);
      if (!entry || change.version <= entry.poll.version) continue;
      if (change.selected.length === 0) entry.voters.delete(change.voter);
      else {
        entry.voters.set(change.voter, {
          voter: change.voter,
          ...(change.name === undefined ? {} : { name: change.name }),
          selected: change.selected,
          timestampMs: change.timestampMs,
        });
      }
      entry.poll = {
        ...entry.poll,
        version: change.version,
        unknownOptionVotes: entry.poll.unknownOptionVotes + change.unknownHashes,
      };
      entry.cached = null;
      const list = touched.get(change.pollId);
      if (list) list.push(change);
      else touched.set(change.pollId, [change]);
    }
    const result = new Map<string, { poll: Poll; changes: VoteChange[] }>();
    for (const [id, list] of touched) result.set(id, { poll: this.get(id)!, changes: list });
    return result;
  }

  get(id: string): Poll | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    entry.cached ??= { ...entry.poll, voters: [...entry.voters.values()].sort(byVoter) };
    return entry.cached;
  }

  /** Every poll, newest first. */
  list(): Poll[] {
    return [...this.entries.keys()].map((id) => this.get(id)!).sort(newestFirst);
  }

  get size(): number {
    return this.entries.size;
  }
}
