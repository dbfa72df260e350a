import type { StoredPoll } from '../store/storedPoll.js';

/** A poll's counts per option hash, as of a version of the poll. */
interface Counts {
  version: number;
  byHash: Map<string, number>;
}

/** What one accepted vote did to a poll's counts. */
export interface CountChange {
  /** The poll's version before the vote, and after it. */
  versionBefore: number;
  version: number;
  /** The selections it replaced (the voter's and its aliases'), and the new one. */
  replaced: readonly (readonly string[])[];
  selected: readonly string[];
}

/**
 * Per-option counts of the polls that webhook events report, kept up to date vote by vote
 * (a big poll is not counted again for every vote); counted afresh when a vote does not follow
 * the version they are of (the first event of a poll, or after events nobody wanted).
 */
export class VoteTally {
  private readonly counts = new WeakMap<StoredPoll, Counts>();

  /** The counts after `change`; `poll` is the poll's state after it. */
  after(poll: StoredPoll, change: CountChange): Map<string, number> {
    const known = this.counts.get(poll);
    if (known && known.version === change.versionBefore) {
      for (const selection of change.replaced) add(known.byHash, selection, -1);
      add(known.byHash, change.selected, 1);
      known.version = change.version;
      return known.byHash;
    }
    const byHash = new Map<string, number>(poll.options.map((o) => [o.hash, 0]));
    for (const v of poll.voters.values()) add(byHash, v.selected, 1);
    this.counts.set(poll, { version: change.version, byHash });
    return byHash;
  }
}

const add = (byHash: Map<string, number>, hashes: readonly string[], delta: number) => {
  for (const h of hashes) {
    const n = byHash.get(h);
    if (n !== undefined) byHash.set(h, n + delta);
  }
};
