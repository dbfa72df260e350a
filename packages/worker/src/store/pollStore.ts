import {
  byVoter,
  newestFirst,
  type Poll,
  Selections,
  StringPool,
  type VoteChange,
  VoterTable,
} from '@pollmasters/shared';
import type { Db } from './database.js';
import {
  type NewPoll,
  type PollRow,
  rowParamsOf,
  type StoredPoll,
  storedPollOf,
} from './storedPoll.js';
import { decide, type IncomingVote, type StoredVote } from './voteDecision.js';
import { VoteLog, type VoteLogEntry } from './voteLog.js';

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
 * Polls and votes: held in memory for decisions, written through to SQLite in batched
 * transactions. `flush()` commits every queued vote and only then returns the changes, so an
 * event is emitted only for what is stored. Votes go to the vote log (./voteLog.ts).
 */
export class PollStore {
  private readonly polls = new Map<string, StoredPoll>();
  /** The voters' ids and names of every poll, each kept once. */
  private readonly pool = new StringPool();
  /** Rows for the vote log, in the order they happened. */
  private readonly queuedRows: VoteLogEntry[] = [];
  private readonly touched = new Set<string>();
  private queuedChanges: VoteChange[] = [];
  /** Other writes that belong with the queued votes (early votes now applied): same transaction. */
  private readonly queuedWith: (() => void)[] = [];
  private readonly insertPoll;
  private readonly inTransaction: (write: () => void) => void;
  private readonly writeVotes;
  private readonly updateCreators;

  constructor(db: Db) {
    for (const row of db.prepare<[], PollRow>('SELECT * FROM polls').iterate()) {
      this.polls.set(row.id, storedPollOf(row, this.pool));
    }
    const log = new VoteLog(db);
    log.replay(
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

    const insert = db.prepare(
      `INSERT OR IGNORE INTO polls (id, chat_id, question, options, selectable_count, created_at,
         secret, creator_jids, message, unknown_option_votes, version, creator_jid, creator_from_me)
       VALUES (@id, @chatId, @question, @options, @selectableCount, @createdAt, @secret,
         @creatorJids, @message, 0, 0, @creatorJid, @creatorFromMe)`,
    );
    this.insertPoll = (p: NewPoll) => insert.run(rowParamsOf(p));
    const inTransaction = db.transaction((write: () => void) => write());
    this.inTransaction = (write) => inTransaction(write);
    this.updateCreators = db.prepare<[string, string]>(
      'UPDATE polls SET creator_jids = ? WHERE id = ?',
    );
    const updatePoll = db.prepare(
      'UPDATE polls SET unknown_option_votes = ?, version = ? WHERE id = ?',
    );
    this.writeVotes = db.transaction(() => {
      log.append(this.queuedRows);
      for (const id of this.touched) {
        const p = this.polls.get(id);
        if (p) updatePoll.run(p.unknownOptionVotes, p.version, id);
      }
      for (const write of this.queuedWith) write();
    });
  }

  get(id: string): StoredPoll | undefined {
    return this.polls.get(id);
  }

  get size(): number {
    return this.polls.size;
  }

  /**
   * Stores a new poll at once (a poll is stored before anyone hears of it), and with it, in the
   * same transaction, what `alongside` writes (its webhook event). False if known.
   */
  add(poll: NewPoll, alongside?: (stored: StoredPoll) => void): boolean {
    if (this.polls.has(poll.id)) return false;
    const stored: StoredPoll = {
      ...poll,
      unknownOptionVotes: 0,
      version: 0,
      voters: new VoterTable(this.pool),
      selections: new Selections(poll.options.map((o) => o.hash)),
    };
    if (alongside) {
      this.inTransaction(() => {
        this.insertPoll(stored);
        alongside(stored);
      });
    } else this.insertPoll(stored);
    this.polls.set(poll.id, stored);
    return true;
  }

  /** Replaces the JIDs that may sign as the poll's creator (when we learnt our other form). */
  setCreatorJids(pollId: string, creatorJids: readonly string[]): void {
    const poll = this.polls.get(pollId);
    if (!poll) return;
    poll.creatorJids = [...creatorJids];
    this.updateCreators.run(JSON.stringify(poll.creatorJids), pollId);
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
    let current = poll.voters.get(vote.voter);
    const aliasHits =
      aliases.length === 0
        ? NO_ALIASES
        : aliases.filter((a) => a !== vote.voter && poll.voters.has(a));
    for (const alias of aliasHits) {
      const other = poll.voters.get(alias)!;
      if (!current || other.timestampMs > current.timestampMs) current = other;
    }
    const decision = decide(current, vote);
    if (decision === 'stale') return { kind: 'stale', current: current! };
    if (decision === 'duplicate') return { kind: 'duplicate' };

    const versionBefore = poll.version;
    const replaced: (readonly string[])[] = [];
    const own = poll.voters.get(vote.voter);
    if (own) replaced.push(own.selected);
    for (const alias of aliasHits) replaced.push(poll.voters.get(alias)!.selected);
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

  /** Whether `flush` has something to commit. */
  get hasPendingWrites(): boolean {
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

  /** Commits every queued vote (and write) in one transaction; returns the changes now stored. */
  flush(): VoteChange[] {
    if (!this.hasPendingWrites) return [];
    this.writeVotes();
    const changes = this.queuedChanges;
    this.queuedChanges = [];
    this.queuedRows.length = 0;
    this.queuedWith.length = 0;
    this.touched.clear();
    return changes;
  }

  /** The public view of a poll: voters with a non-empty selection. */
  toPoll(p: StoredPoll): Poll {
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
  }

  /**
   * A page of polls by id, after `after` (from the first when null), up to the one that
   * reaches `maxVoters` voters; `next` is its last id, or null when no poll follows.
   */
  page(after: string | null, maxVoters: number): { polls: Poll[]; next: string | null } {
    const ids = [...this.polls.keys()].filter((id) => after === null || id > after).sort();
    const polls: Poll[] = [];
    let voters = 0;
    for (const id of ids) {
      if (polls.length > 0 && voters >= maxVoters) break;
      const poll = this.toPoll(this.polls.get(id)!);
      polls.push(poll);
      voters += poll.voters.length;
    }
    return { polls, next: polls.length < ids.length ? polls.at(-1)!.id : null };
  }

  all(): Poll[] {
    return [...this.polls.values()].map((p) => this.toPoll(p)).sort(newestFirst);
  }
}

const NO_ALIASES: readonly string[] = [];
