import {
  countVotes,
  type Poll,
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
  counts: countVotes(poll),
  voterCount: poll.voters.length,
  unknownOptionVotes: poll.unknownOptionVotes,
  poll,
  guiJson() {
    return pollUpdateJson(this.poll);
  },
});
