import {
  type Logger,
  newestFirst,
  type Poll,
  Selections,
  StringPool,
  type VoteChange,
  VoterTable,
} from '@pollmasters/shared';
import type { Db } from './database.js';
import { CommitLoop } from './pg/commitLoop.js';
import { type Awaitable, type PollBackend, sqlitePollBackend } from './pollBackend.js';
import { pageOf, publicPoll } from './pollPage.js';
import { type NewPoll, type PollRow, type StoredPoll, storedPollOf } from './storedPoll.js';
import { decide, type IncomingVote, type StoredVote } from './voteDecision.js';
import type { VoteLogEntry } from './voteLog.js';

export type { NewPoll, StoredPoll } from './storedPoll.js';

export type VoteOutcome =
  | {
      kind: 'accepted';
      change: VoteChange;
      /** The voter's selection before this vote (an alias's, when it was taken over). */
      previous: readonly string[];
      /** Every selection this vote replaced (the voter's and its aliases'), for counts. */
      replaced: readonly (readonly string[])[];
      /** The poll's version before this vote. */
      versionBefore: number;
    }
  | { kind: 'stale'; current: StoredVote }
  | { kind: 'duplicate' };

/**
 * Polls and votes: held in memory for decisions, written through to the store's backend (per
 * engine: ./pollBackend.ts) in batched transactions. `flush()` commits every queued vote and
 * only then returns the changes, so an event is emitted only for what is stored: at once on
 * SQLite, through a promise on PostgreSQL (one commit in flight at a time: ./pg/commitLoop.ts).
 */
export class PollStore {
  private readonly polls = new Map<string, StoredPoll>();
  /** The voters' ids and names of every poll, each kept once. */
  private readonly pool = new StringPool();
  /** Rows for the vote log, in the order they happened. */
  private queuedRows: VoteLogEntry[] = [];
  private readonly touched = new Set<string>();
  private queuedChanges: VoteChange[] = [];
  /** Other writes that belong with the queued votes (early votes now applied): same transaction. */
  private queuedWith: (() => void)[] = [];
  /** New polls whose insert is in flight (PostgreSQL), by id. */
  private readonly inserting = new Map<string, Promise<unknown>>();
  /** PostgreSQL's single-flight commits (none on SQLite, which commits as it writes). */
  private readonly commits: CommitLoop | null;
  private onRetried: (changes: VoteChange[]) => void = () => {};

  constructor(
    private readonly backend: PollBackend,
    /** Given when the backend's commits settle later (PostgreSQL). */
    commitsLater?: { logger?: Logger },
  ) {
    this.commits = commitsLater
      ? new CommitLoop({
          commitQueued: () => this.commitQueued(),
          hasQueued: () => this.hasQueued,
          retried: (changes) => this.onRetried(changes),
          logger: commitsLater.logger,
        })
      : null;
  }

  /** A store on a SQLite database, loaded. */
  static sqlite(db: Db): PollStore {
    const store = new PollStore(sqlitePollBackend(db));
    void store.load();
    return store;
  }

  /** Opens a store whose commits settle later (PostgreSQL): loads its polls, replays its votes. */
  static async open(backend: PollBackend, logger?: Logger): Promise<PollStore> {
    const store = new PollStore(backend, { logger });
    await store.load();
    return store;
  }

  /** Loads the polls and replays the votes (synchronously on SQLite). */
  private load(): Awaitable<void> {
    const rows = this.backend.polls();
    if (rows instanceof Promise) return rows.then((r) => this.replay(r));
    return this.replay(rows);
  }

  private replay(rows: readonly PollRow[]): Awaitable<void> {
    for (const row of rows) this.polls.set(row.id, storedPollOf(row, this.pool));
    return this.backend.replay(
      (row) => {
        const poll = this.polls.get(row.pollId);
        if (!poll) return;
        if (row.selected === null) {
          poll.voters.delete(row.voter);
          return;
        }
        poll.voters.set(row.voter, {
          name: row.name ?? undefined,
          selected: poll.selections.split(row.selected).selected,
          timestampMs: row.timestampMs,
        });
      },
      () => {
        let live = 0;
        for (const poll of this.polls.values()) live += poll.voters.size;
        return live;
      },
    );
  }

  get(id: string): StoredPoll | undefined {
    return this.polls.get(id);
  }

  get size(): number {
    return this.polls.size;
  }

  /**
   * Stores a new poll at once (a poll is stored before anyone hears of it), and with it, in the
   * same transaction, what `alongside` writes (its webhook event). False if known; a promise
   * on PostgreSQL, to await before announcing it (its votes may be decided meanwhile: they are
   * committed after it).
   */
  add(poll: NewPoll, alongside?: (stored: StoredPoll) => void): boolean | Promise<boolean> {
    if (this.polls.has(poll.id)) return false;
    const stored: StoredPoll = {
      ...poll,
      unknownOptionVotes: 0,
      version: 0,
      voters: new VoterTable(this.pool),
      selections: new Selections(poll.options.map((o) => o.hash)),
    };
    this.polls.set(poll.id, stored);
    const forget = (err: unknown) => {
      this.polls.delete(poll.id);
      throw err;
    };
    let committed: Promise<void> | undefined;
    try {
      committed = this.backend.transaction(() => {
        this.backend.insertPoll(stored);
        alongside?.(stored);
      });
    } catch (err) {
      forget(err);
    }
    if (!committed) return true;
    const insert = committed.then(() => true, forget);
    this.inserting.set(poll.id, insert);
    const done = () => this.inserting.delete(poll.id);
    insert.then(done, done);
    return insert;
  }

  /** Settles once poll `id` is stored, if its insert is in flight (PostgreSQL only). */
  whenStored(id: string): Promise<unknown> | undefined {
    return this.inserting.get(id);
  }

  /**
   * Replaces the JIDs that may sign as the poll's creator (when we learnt our other form);
   * stored with the next votes (the vote that taught it follows).
   */
  setCreatorJids(pollId: string, creatorJids: readonly string[]): void {
    const poll = this.polls.get(pollId);
    if (!poll) return;
    poll.creatorJids = [...creatorJids];
    const jids = poll.creatorJids;
    this.commitWithVotes(() => this.backend.setCreators(pollId, jids));
  }

  /**
   * Applies a decrypted vote to the in-memory state and queues its write. `aliases` are other
   * ids of the same person (their LID when `vote.voter` is their PN): a selection stored
   * under an alias is taken over, so each person counts once.
   */
  applyVote(
    pollId: string,
    vote: IncomingVote,
    unknownHashes: number,
    aliases: readonly string[] = [],
  ): VoteOutcome {
    const poll = this.polls.get(pollId);
    if (!poll) throw new Error(`applyVote: unknown poll ${pollId}`);
    const own = poll.voters.get(vote.voter);
    let current = own;
    const aliasHits = storedAliases(poll, vote.voter, aliases);
    for (const alias of aliasHits) {
      const other = poll.voters.get(alias)!;
      if (!current || other.timestampMs > current.timestampMs) current = other;
    }
    const decision = decide(current, vote);
    if (decision === 'stale') return { kind: 'stale', current: current! };
    if (decision === 'duplicate') return { kind: 'duplicate' };

    const versionBefore = poll.version;
    // A first vote (the most common) replaces nothing: no array of its own.
    let replaced: readonly (readonly string[])[] = NOTHING_REPLACED;
    if (own || aliasHits.length) {
      const selections = own ? [own.selected] : [];
      for (const alias of aliasHits) selections.push(poll.voters.get(alias)!.selected);
      replaced = selections;
    }
    for (const alias of aliasHits) {
      poll.voters.delete(alias);
      this.queuedRows.push({ pollId, voter: alias, vote: null });
    }
    const name = vote.name ?? current?.name;
    // An alias taken over is announced as its withdrawal, so readers drop it too.
    for (const alias of aliasHits) {
      poll.version += 1;
      this.queuedChanges.push({
        pollId,
        voter: alias,
        selected: [],
        unknownHashes: 0,
        timestampMs: vote.timestampMs,
        version: poll.version,
      });
    }
    const stored: StoredVote = {
      voter: vote.voter,
      name,
      selected: vote.selected,
      timestampMs: vote.timestampMs,
    };
    poll.voters.set(vote.voter, stored);
    poll.unknownOptionVotes += unknownHashes;
    poll.version += 1;
    this.queuedRows.push({ pollId, voter: vote.voter, vote: stored, messageId: vote.messageId });
    this.touched.add(pollId);
    const change: VoteChange = {
      pollId,
      voter: vote.voter,
      selected: vote.selected,
      unknownHashes,
      timestampMs: vote.timestampMs,
      version: poll.version,
    };
    if (name !== undefined) change.name = name;
    this.queuedChanges.push(change);
    const previous = current?.selected ?? NO_ALIASES;
    return { kind: 'accepted', change, previous, replaced, versionBefore };
  }

  get pendingWrites(): number {
    return this.queuedChanges.length;
  }

  /** Whether `flush` has something to commit (or, on PostgreSQL, a commit to wait for). */
  get hasPendingWrites(): boolean {
    return this.hasQueued || !!this.commits?.busy;
  }

  private get hasQueued(): boolean {
    return this.queuedChanges.length > 0 || this.queuedWith.length > 0;
  }

  /**
   * Queues a write to commit in the transaction of the next `flush`, with the votes queued
   * until then: what made them (an early vote now applied) goes when, and only when, they are
   * stored.
   */
  commitWithVotes(write: () => void): void {
    this.queuedWith.push(write);
  }

  /**
   * Commits every queued vote (and write) in one transaction; returns the changes now stored
   * (on PostgreSQL through a promise, after the commit in flight; see CommitLoop). A failed
   * commit puts its writes back in front of the queue: the next commit tries them again.
   */
  flush(): VoteChange[] | Promise<VoteChange[]> {
    return this.commits ? this.commits.flush() : this.commitQueued();
  }

  /**
   * Where the changes go that a retry stores when no flush asked for it (PostgreSQL: a failed
   * commit is tried again by a timer).
   */
  announceRetried(listener: (changes: VoteChange[]) => void): void {
    this.onRetried = listener;
  }

  /** Stops retrying failed commits (the session closes). */
  close(): void {
    this.commits?.close();
  }

  private commitQueued(): VoteChange[] | Promise<VoteChange[]> {
    if (!this.hasQueued) return [];
    const rows = this.queuedRows;
    const changes = this.queuedChanges;
    const withVotes = this.queuedWith;
    const touched = [...this.touched];
    this.queuedRows = [];
    this.queuedChanges = [];
    this.queuedWith = [];
    this.touched.clear();
    const requeue = (err: unknown): never => {
      this.queuedRows = rows.concat(this.queuedRows);
      this.queuedChanges = changes.concat(this.queuedChanges);
      this.queuedWith = withVotes.concat(this.queuedWith);
      for (const id of touched) this.touched.add(id);
      throw err;
    };
    let committed: Promise<void> | undefined;
    try {
      committed = this.backend.transaction(() => {
        this.backend.appendVotes(rows);
        for (const id of touched) {
          const p = this.polls.get(id);
          if (p) this.backend.updatePoll(id, p.unknownOptionVotes, p.version);
        }
        for (const write of withVotes) write();
      });
    } catch (err) {
      requeue(err);
    }
    return committed ? committed.then(() => changes, requeue) : changes;
  }

  /** The public view of a poll: voters with a non-empty selection. */
  toPoll(p: StoredPoll): Poll {
    return publicPoll(p);
  }

  /** See `pageOf` (./pollPage.ts). */
  page(after: string | null, maxVoters: number): { polls: Poll[]; next: string | null } {
    return pageOf(this.polls, after, maxVoters);
  }

  all(): Poll[] {
    return [...this.polls.values()].map(publicPoll).sort(newestFirst);
  }
}

const NO_ALIASES: readonly string[] = [];
const NOTHING_REPLACED: readonly (readonly string[])[] = [];

/** The aliases of `voter` that hold a vote in `poll` (NO_ALIASES, not a new array, for none). */
const storedAliases = (
  poll: StoredPoll,
  voter: string,
  aliases: readonly string[],
): readonly string[] => {
  let hits: string[] | undefined;
  for (const alias of aliases) {
    if (alias === voter || !poll.voters.has(alias)) continue;
    if (hits) hits.push(alias);
    else hits = [alias];
  }
  return hits ?? NO_ALIASES;
};
