import {
  byVoter,
  countVotes,
  newestFirst,
  type Poll,
  type PollPage,
  type PollVotes,
  pollUpdateJsonOf,
  Selections,
  StringPool,
  type VoteChange,
  VoterTable,
} from '@pollmasters/shared';
import { type PageRequest, pageOf } from './pollPage.js';
import { AppliedUpdate, type PollUpdate, type UpdateState } from './pollUpdate.js';

export { type PollUpdate, pollUpdateOf } from './pollUpdate.js';

interface Entry {
  poll: Omit<Poll, 'voters'>;
  /** Its voters in columns (the worker holds every voter too: this is the second copy). */
  voters: VoterTable;
  /** Voters per option hash (options of the poll only), kept up to date by `apply`. */
  counts: Map<string, number>;
  /** The poll's own strings and one shared array per selection, for what arrives. */
  selections: Selections;
  /**
   * The materialised Poll, rebuilt only when read after a change, and kept only while it is
   * among the recently read (`CACHED_VOTERS`): a read of every poll keeps no copy of them all.
   */
  cached: Poll | null;
}

/** Voters of the materialised polls kept, over all polls (about 5 MB of objects). */
const CACHED_VOTERS = 50_000;

const countsOf = (entry: Entry): PollVotes['counts'] =>
  entry.poll.options.map((o) => ({
    name: o.name,
    hash: o.hash,
    count: entry.counts.get(o.hash) ?? 0,
  }));

const addSelection = (entry: Entry, selected: readonly string[], delta: number): void => {
  for (let i = 0; i < selected.length; i++) {
    const hash = selected[i]!;
    const n = entry.counts.get(hash);
    if (n !== undefined) entry.counts.set(hash, n + delta);
  }
};

/**
 * The API's copy of every poll: filled from the worker's snapshot, kept current by its
 * events. Reads never wait on the worker. Changes are applied by version, so a replayed or
 * older change is ignored and no reader sees an older state after a newer one.
 */
export class PollReadModel {
  private readonly entries = new Map<string, Entry>();
  /** The voters' ids and names of every poll, each kept once. */
  private readonly pool = new StringPool();
  /** The entries whose `cached` is set, least recently read first, with their voter counts. */
  private readonly cachedEntries = new Map<Entry, number>();
  private cachedVoters = 0;
  /** An entry's full state and GUI JSON, read on demand by the updates `apply` returns. */
  private readonly stateOf: UpdateState<Entry> = {
    poll: (entry) => this.materialise(entry),
    guiJson: (entry) => this.guiJson(entry),
  };

  /**
   * Replaces everything with a snapshot; returns the polls that are new or changed, as this
   * model holds them (its own compact copies, not the snapshot's objects).
   */
  reset(polls: readonly Poll[]): Poll[] {
    const kept = new Set(polls.map((p) => p.id));
    const changed = this.merge(polls);
    this.forget([...this.entries.keys()].filter((id) => !kept.has(id)));
    return changed;
  }

  /**
   * Adds polls that are new or newer than what it holds (a page of a snapshot); returns them
   * as this model holds them.
   */
  merge(polls: readonly Poll[]): Poll[] {
    const changed: Poll[] = [];
    for (const poll of polls) {
      const before = this.entries.get(poll.id);
      if (before && before.poll.version >= poll.version) continue;
      changed.push(this.put(poll));
    }
    return changed;
  }

  /**
   * Puts a poll unless it holds a newer version (the same version is replaced: a resync after
   * lost events); returns it as this model holds it, in a list like `merge`.
   */
  replace(poll: Poll): Poll[] {
    const before = this.entries.get(poll.id);
    if (before && before.poll.version > poll.version) return [];
    return [this.put(poll)];
  }

  /** Forgets these polls (gone from the worker: the end of a snapshot read page by page). */
  forget(ids: Iterable<string>): void {
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      this.uncache(entry);
      this.entries.delete(id);
    }
  }

  /** The ids of the polls it holds. */
  ids(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Adds a poll (or a newer state of it) and returns it as this model holds it: each voter's
   * selection as the poll's own shared array, counts taken from what is kept.
   */
  put(poll: Poll): Poll {
    const { voters, ...rest } = poll;
    const selections = new Selections(poll.options.map((o) => o.hash));
    const kept = new VoterTable(this.pool);
    for (const v of voters) {
      const { selected } = selections.split(v.selected);
      if (selected.length > 0) {
        kept.set(v.voter, { name: v.name, selected, timestampMs: v.timestampMs });
      }
    }
    const entry: Entry = {
      poll: rest,
      voters: kept,
      counts: new Map(),
      selections,
      cached: null,
    };
    const before = this.entries.get(poll.id);
    if (before) this.uncache(before);
    const state = this.materialise(entry);
    for (const c of countVotes(state)) entry.counts.set(c.hash, c.count);
    this.entries.set(poll.id, entry);
    return state;
  }

  /**
   * Applies accepted votes in order, updating each poll's counts as it goes. Returns, per poll
   * that changed, what changed and its counts after (changes for unknown polls or already
   * applied versions are skipped). Nothing is materialised here. The changes are taken over
   * (they come fresh from the channel): made to share the poll's strings, and passed on.
   */
  apply(changes: readonly VoteChange[]): Map<string, PollUpdate> {
    const touched = new Map<string, { entry: Entry; changes: VoteChange[] }>();
    for (let i = 0; i < changes.length; i++) {
      const change = changes[i]!;
      const entry = this.entries.get(change.pollId);
      if (!entry || change.version <= entry.poll.version) continue;
      this.ownStrings(entry, change);
      // One lookup of the voter for a vote (`put`); a withdrawal, rarer, takes two.
      let before: readonly string[] | undefined;
      if (change.selected.length === 0) {
        before = entry.voters.selectedOf(change.voter);
        entry.voters.delete(change.voter);
      } else {
        before = entry.voters.put(change.voter, change);
        addSelection(entry, change.selected, 1);
      }
      if (before) addSelection(entry, before, -1);
      entry.poll.version = change.version;
      entry.poll.unknownOptionVotes += change.unknownHashes;
      this.uncache(entry);
      const list = touched.get(change.pollId);
      if (list) list.changes.push(change);
      else touched.set(change.pollId, { entry, changes: [change] });
    }
    const result = new Map<string, PollUpdate>();
    for (const [id, { entry, changes: list }] of touched) {
      const { chatId, version, options, unknownOptionVotes } = entry.poll;
      const counts = countsOf(entry);
      const voterCount = entry.voters.size;
      const after = { chatId, version, options, counts, voterCount, unknownOptionVotes };
      result.set(id, new AppliedUpdate(this.stateOf, entry, id, list, after));
    }
    return result;
  }

  /** The version it holds of a poll, without materialising it. */
  versionOf(id: string): number | undefined {
    return this.entries.get(id)?.poll.version;
  }

  get(id: string): Poll | undefined {
    const entry = this.entries.get(id);
    return entry ? this.materialise(entry) : undefined;
  }

  /** One page of polls, newest first (./pollPage.ts): only its polls are materialised. */
  page(request: PageRequest): PollPage {
    const { items, nextCursor } = pageOf(
      [...this.entries.values()].map((e) => e.poll),
      request,
      (poll) => this.entries.get(poll.id)?.voters.size ?? 0,
    );
    return { polls: items.map((p) => this.get(p.id)!), nextCursor };
  }

  /** Every poll, newest first. */
  list(): Poll[] {
    return [...this.entries.keys()].map((id) => this.get(id)!).sort(newestFirst);
  }

  /**
   * Every poll without its voters, newest first: what stands for them in a read of all polls
   * that materialises one at a time (`get`), instead of holding every voter object at once.
   */
  heads(): Omit<Poll, 'voters'>[] {
    return [...this.entries.values()].map((e) => e.poll).sort(newestFirst);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * `pollUpdateJson` of an entry's state, from its columns: neither a Poll nor an object per
   * voter is made, and its results are the counts kept (those of the same state).
   */
  private guiJson(entry: Entry): string {
    const results = Object.fromEntries(countsOf(entry).map((c) => [c.name, c.count]));
    return pollUpdateJsonOf(entry.poll, results, (each) => entry.voters.forEachInOrder(each));
  }

  /**
   * Makes an arriving change use the poll's own id string, the voter's id and name as kept
   * for any poll, and the poll's shared array for its selection, instead of the fresh copies
   * it crossed the thread boundary with: the change is kept in the event log, and the copies
   * then die young instead of being carried into the old generation (docs/performance.md).
   */
  private ownStrings(entry: Entry, change: VoteChange): void {
    change.pollId = entry.poll.id;
    change.voter = this.pool.intern(change.voter);
    if (change.name !== undefined) change.name = this.pool.intern(change.name);
    change.selected = entry.selections.split(change.selected).selected;
  }

  /** The materialised state of an entry: cached until its next change or until read long ago. */
  private materialise(entry: Entry): Poll {
    if (entry.cached) {
      // Most recently read: to the end of the order.
      this.cachedEntries.delete(entry);
      this.cachedEntries.set(entry, entry.cached.voters.length);
      return entry.cached;
    }
    const voters = [...entry.voters.values()].sort(byVoter);
    const poll: Poll = { ...entry.poll, voters };
    entry.cached = poll;
    this.cachedEntries.set(entry, voters.length);
    this.cachedVoters += voters.length;
    for (const [oldest] of this.cachedEntries) {
      if (this.cachedVoters <= CACHED_VOTERS || oldest === entry) break;
      this.uncache(oldest);
    }
    return poll;
  }

  private uncache(entry: Entry): void {
    const voters = this.cachedEntries.get(entry);
    if (voters === undefined) return;
    this.cachedEntries.delete(entry);
    this.cachedVoters -= voters;
    entry.cached = null;
  }
}
