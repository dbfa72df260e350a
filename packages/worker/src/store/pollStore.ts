import {
  byVoter,
  newestFirst,
  type Poll,
  type PollOption,
  Selections,
  type VoteChange,
  voterSelection,
} from '@pollmasters/shared';
import type { Db } from './database.js';
import { decide, type IncomingVote, type StoredVote } from './voteDecision.js';
import { VoteLog, type VoteLogEntry } from './voteLog.js';

/** A poll as the worker keeps it: the public fields plus what decryption needs. */
export type StoredPoll = Omit<Poll, 'voters'> & {
  /** The poll's `messageSecret`; null when the creation message carried none. */
  secret: Uint8Array | null;
  /** JIDs that may have signed as the creator (own PN and LID for our polls). */
  creatorJids: string[];
  /** The creation message (proto WebMessageInfo bytes), for Baileys' `getMessage`. */
  message: Uint8Array;
  /** Every voter's newest vote, withdrawn ones included. */
  voters: Map<string, StoredVote>;
  /** Its options as votes are counted against them (one shared array per selection). */
  selections: Selections;
};

/** A poll as it is first stored: before any vote. */
export type NewPoll = Omit<StoredPoll, 'voters' | 'unknownOptionVotes' | 'version' | 'selections'>;

export type VoteOutcome =
  | { kind: 'accepted'; change: VoteChange }
  | { kind: 'stale'; current: StoredVote }
  | { kind: 'duplicate' };

interface PollRow {
  id: string;
  chat_id: string;
  question: string;
  options: string;
  selectable_count: number;
  created_at: number;
  secret: Buffer | null;
  creator_jids: string;
  message: Buffer;
  unknown_option_votes: number;
  version: number;
}

/**
 * Polls and votes: held in memory for decisions, written through to SQLite in batched
 * transactions. `flush()` commits every queued vote and only then returns the changes, so an
 * event is emitted only for what is stored. Votes go to the vote log (./voteLog.ts).
 */
export class PollStore {
  private readonly polls = new Map<string, StoredPoll>();
  /** Rows for the vote log, in the order they happened. */
  private readonly queuedRows: VoteLogEntry[] = [];
  private readonly touched = new Set<string>();
  private queuedChanges: VoteChange[] = [];
  private readonly insertPoll;
  private readonly writeVotes;
  private readonly updateCreators;

  constructor(db: Db) {
    const pollRows = db.prepare<[], PollRow>('SELECT * FROM polls').all();
    for (const row of pollRows) {
      const options = JSON.parse(row.options) as PollOption[];
      this.polls.set(row.id, {
        id: row.id,
        chatId: row.chat_id,
        question: row.question,
        options,
        selectableCount: row.selectable_count,
        createdAt: row.created_at,
        secret: row.secret ? new Uint8Array(row.secret) : null,
        creatorJids: JSON.parse(row.creator_jids) as string[],
        message: new Uint8Array(row.message),
        unknownOptionVotes: row.unknown_option_votes,
        version: row.version,
        voters: new Map(),
        selections: new Selections(options.map((o) => o.hash)),
      });
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
          voter: row.voter,
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
         secret, creator_jids, message, unknown_option_votes, version)
       VALUES (@id, @chatId, @question, @options, @selectableCount, @createdAt, @secret,
         @creatorJids, @message, 0, 0)`,
    );
    this.insertPoll = (p: StoredPoll) =>
      insert.run({
        ...p,
        options: JSON.stringify(p.options),
        creatorJids: JSON.stringify(p.creatorJids),
        secret: p.secret ? Buffer.from(p.secret) : null,
        message: Buffer.from(p.message),
      });
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
    });
  }

  get(id: string): StoredPoll | undefined {
    return this.polls.get(id);
  }

  get size(): number {
    return this.polls.size;
  }

  /** Stores a new poll at once (a poll is stored before anyone hears of it). False if known. */
  add(poll: NewPoll): boolean {
    if (this.polls.has(poll.id)) return false;
    const stored: StoredPoll = {
      ...poll,
      unknownOptionVotes: 0,
      version: 0,
      voters: new Map(),
      selections: new Selections(poll.options.map((o) => o.hash)),
    };
    this.insertPoll(stored);
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
    return { kind: 'accepted', change };
  }

  get pendingWrites(): number {
    return this.queuedChanges.length;
  }

  /** Commits every queued vote in one transaction; returns the changes now stored. */
  flush(): VoteChange[] {
    if (this.queuedChanges.length === 0) return [];
    this.writeVotes();
    const changes = this.queuedChanges;
    this.queuedChanges = [];
    this.queuedRows.length = 0;
    this.touched.clear();
    return changes;
  }

  /** The public view of a poll: voters with a non-empty selection. */
  toPoll(p: StoredPoll): Poll {
    const voters = [];
    for (const v of p.voters.values()) {
      if (v.selected.length === 0) continue;
      voters.push(voterSelection(v));
    }
    voters.sort(byVoter);
    return {
      id: p.id,
      chatId: p.chatId,
      question: p.question,
      options: p.options,
      selectableCount: p.selectableCount,
      createdAt: p.createdAt,
      voters,
      unknownOptionVotes: p.unknownOptionVotes,
      version: p.version,
    };
  }

  all(): Poll[] {
    return [...this.polls.values()].map((p) => this.toPoll(p)).sort(newestFirst);
  }
}

const NO_ALIASES: readonly string[] = [];
