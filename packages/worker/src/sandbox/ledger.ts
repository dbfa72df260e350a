import { z } from 'zod';

/** One vote the network cast: what a test may compare the worker's results with. */
export const LedgerVote = z.object({
  pollId: z.string(),
  chatId: z.string(),
  /** The vote message id (a redelivery repeats the original's). */
  messageId: z.string(),
  voterPn: z.string(),
  voterLid: z.string(),
  /** The id the worker must count this voter under: the PN when lidMapping knows it, else the LID. */
  voterId: z.string(),
  /** The JIDs that signed the encryption, as `decryptPollVote` needs them. */
  creatorJid: z.string(),
  voterJid: z.string(),
  /** Option names; empty means the vote was withdrawn. */
  selectedOptions: z.array(z.string()),
  senderTimestampMs: z.number(),
  redelivery: z.boolean(),
  /** Cast before the app was linked: the history sync of the first login carries it. */
  history: z.boolean().optional(),
});
export type LedgerVote = z.infer<typeof LedgerVote>;

/** Per voter id, the options of their newest vote; withdrawn voters are left out. */
export type ExpectedResult = Record<string, string[]>;

/**
 * The network's record of every vote it cast, in cast order, and the truth derived from it:
 * what a correct worker must end up with for each poll.
 */
export class Ledger {
  private readonly votes: LedgerVote[] = [];

  constructor(
    initial: readonly LedgerVote[] = [],
    private readonly onRecord: (vote: LedgerVote) => void = () => {},
  ) {
    this.votes.push(...initial);
  }

  record(vote: LedgerVote): void {
    this.votes.push(vote);
    this.onRecord(vote);
  }

  /** Every cast, in order; only those of one poll when `pollId` is given. */
  all(pollId?: string): LedgerVote[] {
    return pollId === undefined ? [...this.votes] : this.votes.filter((v) => v.pollId === pollId);
  }

  /** Ids of the polls that received at least one vote. */
  pollIds(): string[] {
    return [...new Set(this.votes.map((v) => v.pollId))];
  }

  /** The final truth for a poll: a voter's newest vote wins, a redelivered older one never does. */
  expected(pollId: string): ExpectedResult {
    return expectedFrom(this.all(pollId));
  }

  /** The newest `senderTimestampMs` cast for a voter on a poll, 0 when none. */
  lastTimestamp(pollId: string, voterId: string): number {
    let last = 0;
    for (const v of this.votes) {
      if (v.pollId === pollId && v.voterId === voterId) last = Math.max(last, v.senderTimestampMs);
    }
    return last;
  }
}

/** Replays a cast log the way the worker must: newest per voter, empty selection withdraws. */
export function expectedFrom(votes: readonly LedgerVote[]): ExpectedResult {
  const newest = new Map<string, LedgerVote>();
  for (const vote of votes) {
    const current = newest.get(vote.voterId);
    if (!current || vote.senderTimestampMs > current.senderTimestampMs)
      newest.set(vote.voterId, vote);
  }
  const result: ExpectedResult = {};
  for (const [voterId, vote] of newest) {
    if (vote.selectedOptions.length > 0) result[voterId] = [...vote.selectedOptions];
  }
  return result;
}
