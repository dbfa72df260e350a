import { z } from 'zod';
import { Limits } from './limits.js';
import { OptionHash, Poll, PollId } from './poll.js';

/**
 * The options the account votes for, each named by its exact text or by its option hash
 * (SHA-256 hex of the text, either case); both forms may be mixed in one list. A text is
 * matched first, so an option whose text happens to be another option's hash is still found.
 * An empty list withdraws the account's vote. Each option at most once, and at most as many
 * as the poll's `selectableCount` allows (0 = any number).
 */
export const VoteOptions = z
  .array(
    // Bounds the input only: WhatsApp's own limit is the poll's, checked against its options.
    z.string().min(1, 'an option must not be empty').max(1_000, 'an option is at most 1000 long'),
  )
  .max(Limits.maxOptions, `give at most ${Limits.maxOptions} options`);

/** The body of `POST /api/polls/:id/vote`. */
export const VoteSelection = z.object({ options: VoteOptions });
export type VoteSelection = z.infer<typeof VoteSelection>;

/** The input of tRPC `polls.vote` and of the worker's `votePoll` command. */
export const VotePollInput = VoteSelection.extend({ pollId: PollId });
export type VotePollInput = z.infer<typeof VotePollInput>;

/** The account's own vote as it was sent and stored. */
export const OwnVote = z.object({
  /** The id the account is counted under: its phone-number JID, else its LID. */
  voter: z.string(),
  /** Hashes of the selected options, in option order; empty = withdrawn. */
  selected: z.array(OptionHash),
  /** The vote's `senderTimestampMs`. */
  timestampMs: z.number(),
  /** The id of the poll update message sent to WhatsApp. */
  messageId: z.string(),
});
export type OwnVote = z.infer<typeof OwnVote>;

/** What voting returns: the account's vote, and the poll's state with it counted. */
export const VotePollResult = z.object({ vote: OwnVote, poll: Poll });
export type VotePollResult = z.infer<typeof VotePollResult>;
