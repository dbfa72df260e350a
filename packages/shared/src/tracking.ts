import { z } from 'zod';

/**
 * Whose polls a session tracks: `own`, the account's (sent through the API, from its phone or
 * another linked device, live or in the history sync); `all`, also those of the other members
 * of its chats.
 */
export const TrackPolls = z.enum(['own', 'all']);
export type TrackPolls = z.infer<typeof TrackPolls>;

/**
 * How a session treats polls and the votes that come before them. One object per session: the
 * server's flags give it to the session it runs, and a session created with its own can carry
 * another.
 */
export const PollTracking = z.object({
  trackPolls: TrackPolls.default('own'),
  /**
   * Early votes (whose poll is not known yet) kept at most; when one more arrives the oldest
   * is rejected as `unknown_poll`. 0 keeps none: every such vote is rejected at once.
   */
  earlyVotesMax: z.number().int().min(0).max(1_000_000).default(10_000),
  /** Seconds an early vote waits for its poll before it is rejected as `unknown_poll`. */
  earlyVoteMaxAgeSec: z
    .number()
    .int()
    .min(1)
    .max(30 * 86_400)
    .default(86_400),
});
export type PollTracking = z.output<typeof PollTracking>;
export type PollTrackingInput = z.input<typeof PollTracking>;

/**
 * What a session reports of its early votes, whenever it changed: how many wait now, and how
 * many were given up since the last report, by cause (`age`: waited `earlyVoteMaxAgeSec`;
 * `limit`: the oldest, pushed out by `earlyVotesMax`). Each given-up vote is also a
 * `voteRejected` with reason `unknown_poll`.
 */
export const EarlyVoteReport = z.object({
  waiting: z.number().int().nonnegative(),
  expired: z.object({
    age: z.number().int().nonnegative(),
    limit: z.number().int().nonnegative(),
  }),
});
export type EarlyVoteReport = z.infer<typeof EarlyVoteReport>;
