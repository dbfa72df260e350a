import {
  countVotes,
  type Poll,
  type PollOption,
  type PollVotes,
  pollUpdateJson,
  type VoteChange,
} from '@pollmasters/shared';

/**
 * What one change of a poll announces: the tRPC `votes` entry (what changed, in order, and the
 * counts after it, kept up to date incrementally; `changes` empty when the whole state was
 * replaced, a resync), and the full state (every voter, sorted), built only when read.
 */
export interface PollUpdate extends Readonly<PollVotes> {
  /**
   * The poll's options, whose names and hashes `counts` has in the same order: the array the
   * read model keeps once per poll, which the event log's `votes` events share instead of a
   * copy of their own (../trpc/loggedVotes.ts).
   */
  readonly options: readonly PollOption[];
  /**
   * The poll's full state, materialised on first read: this version, or a newer one when the
   * poll changed again before it was read (never an older one).
   */
  readonly poll: Poll;
  /**
   * `pollUpdateJson(poll)`, the GUI's full state: built by the read model from what it keeps,
   * without materialising `poll` (./readModel.ts).
   */
  guiJson(): string;
}

/** An update that carries a whole state (a resync, a newer copy of a poll, a test). */
export const pollUpdateOf = (poll: Poll, changes: VoteChange[] = []): PollUpdate => ({
  pollId: poll.id,
  chatId: poll.chatId,
  version: poll.version,
  changes,
  options: poll.options,
  counts: countVotes(poll),
  voterCount: poll.voters.length,
  unknownOptionVotes: poll.unknownOptionVotes,
  poll,
  guiJson() {
    return pollUpdateJson(this.poll);
  },
});

/** Where an `AppliedUpdate` reads its poll's state: the read model, by its entry. */
export interface UpdateState<E> {
  poll(entry: E): Poll;
  guiJson(entry: E): string;
}

/**
 * What the read model's `apply` reports of one poll: its counts and the rest as they were
 * made, its full state read from the model when asked. A class, not an object literal with a
 * getter and a closure for each poll of each batch (nothing on the vote path reads `poll`).
 */
export class AppliedUpdate<E> implements PollUpdate {
  readonly chatId: string;
  readonly version: number;
  readonly options: readonly PollOption[];
  readonly counts: PollVotes['counts'];
  readonly voterCount: number;
  readonly unknownOptionVotes: number;

  constructor(
    private readonly state: UpdateState<E>,
    private readonly entry: E,
    readonly pollId: string,
    readonly changes: VoteChange[],
    after: Omit<PollUpdate, 'pollId' | 'changes' | 'poll' | 'guiJson'>,
  ) {
    this.chatId = after.chatId;
    this.version = after.version;
    this.options = after.options;
    this.counts = after.counts;
    this.voterCount = after.voterCount;
    this.unknownOptionVotes = after.unknownOptionVotes;
  }

  get poll(): Poll {
    return this.state.poll(this.entry);
  }

  guiJson(): string {
    return this.state.guiJson(this.entry);
  }
}
