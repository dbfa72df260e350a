import { z } from 'zod';
import { Limits } from './limits.js';

/** A WhatsApp JID such as `123@s.whatsapp.net`, `123@lid` or `123-456@g.us`. */
export const Jid = z
  .string()
  .trim()
  .max(Limits.jidMaxLength)
  .regex(/^[^@\s]+@[a-z.]+$/, 'must be a WhatsApp JID such as 123@s.whatsapp.net or 123@g.us');
export type Jid = z.infer<typeof Jid>;

/** SHA-256 of an option's text, lowercase hex. */
export const OptionHash = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
export type OptionHash = z.infer<typeof OptionHash>;

export const PollQuestion = z
  .string()
  .trim()
  .min(1, 'question must not be empty')
  .max(Limits.questionMaxLength, `question must be at most ${Limits.questionMaxLength} characters`);

/** Options as the GUI checks them: trimmed, non-empty, unique, 1 to 12. */
export const PollOptions = z
  .array(
    z
      .string()
      .trim()
      .min(1, 'options must not be empty')
      .max(Limits.optionMaxLength, `options must be at most ${Limits.optionMaxLength} characters`),
  )
  .min(Limits.minOptions, `give ${Limits.minOptions} to ${Limits.maxOptions} options`)
  .max(Limits.maxOptions, `give ${Limits.minOptions} to ${Limits.maxOptions} options`)
  .refine((options) => new Set(options).size === options.length, 'options must be unique');

/** 0 = any number of answers; n = at most n answers (1 = single choice). */
export const SelectableCount = z.number().int().min(0).max(Limits.maxOptions);

/** A poll's content, as every way of sending one takes it. */
export const PollContent = z.object({
  question: PollQuestion,
  options: PollOptions,
  selectableCount: SelectableCount.default(0),
});

/** Adds the check every send makes: at most as many answers as there are options. */
export const selectableWithinOptions = <
  T extends z.ZodType<{ selectableCount: number; options: string[] }>,
>(
  schema: T,
): T =>
  schema.refine((p) => p.selectableCount <= p.options.length, {
    message: 'selectableCount must be 0 (any) or between 1 and the number of options',
    path: ['selectableCount'],
  });

/** What it takes to send one poll to one chat. */
export const SendPollInput = selectableWithinOptions(PollContent.extend({ chatId: Jid }));
export type SendPollInput = z.infer<typeof SendPollInput>;

export const PollOption = z.object({ name: z.string(), hash: OptionHash });
export type PollOption = z.infer<typeof PollOption>;

/** One person's current selection in a poll. */
export const VoterSelection = z.object({
  /** Canonical voter id: the phone-number JID when known, else the LID. */
  voter: z.string(),
  /** Display name where known. */
  name: z.string().optional(),
  /**
   * Hashes of the selected options that match an option of the poll. Read-only: voters with the
   * same selection may share one array (./selections.ts).
   */
  selected: z.array(OptionHash).readonly(),
  /** WhatsApp's `senderTimestampMs` of the vote that set this selection. */
  timestampMs: z.number(),
});
export type VoterSelection = z.infer<typeof VoterSelection>;

/**
 * A voter's selection with only the fields that hold a value (no `name: undefined`, which
 * the wire would carry as an explicit undefined). Two literal shapes, no spread to build.
 */
export const voterSelection = ({
  voter,
  name,
  selected,
  timestampMs,
}: {
  voter: string;
  name?: string | undefined;
  selected: readonly string[];
  timestampMs: number;
}): VoterSelection =>
  name === undefined ? { voter, selected, timestampMs } : { voter, name, selected, timestampMs };

/** A poll id as callers may name one (WhatsApp's message id of the poll). */
export const PollId = z.string().min(1).max(256);

/** Who created a poll: the account (on the API, its phone or another linked device) or a member. */
export const PollCreator = z.object({
  /** Canonical id, as for voters: the phone-number JID when known, else the LID. */
  jid: z.string(),
  /** Whether the account created it. */
  fromMe: z.boolean(),
});
export type PollCreator = z.infer<typeof PollCreator>;

/** A poll with its current results, as the worker stores it and the API serves it. */
export const Poll = z.object({
  id: z.string(),
  chatId: z.string(),
  creator: PollCreator,
  question: z.string(),
  options: z.array(PollOption),
  selectableCount: SelectableCount,
  /** Milliseconds since the epoch. */
  createdAt: z.number(),
  /** Voters with a non-empty selection, ordered by voter id. */
  voters: z.array(VoterSelection),
  /** Selected hashes, over all accepted votes, that matched no option (kept out of results). */
  unknownOptionVotes: z.number().int().nonnegative(),
  /** Grows with every change; a newer state always has a greater version. */
  version: z.number().int().nonnegative(),
});
export type Poll = z.infer<typeof Poll>;

/** What one accepted vote changed. */
export const VoteChange = z.object({
  pollId: z.string(),
  voter: z.string(),
  name: z.string().optional(),
  /** The voter's selection after this vote; empty = withdrawn. Read-only, as in VoterSelection. */
  selected: z.array(OptionHash).readonly(),
  /** Hashes in this vote that matched no option. */
  unknownHashes: z.number().int().nonnegative(),
  timestampMs: z.number(),
  /** The poll's version after this change. */
  version: z.number().int().nonnegative(),
});
export type VoteChange = z.infer<typeof VoteChange>;

/**
 * - `unknown_poll`: its poll never arrived while the vote waited (./tracking.ts), or it was
 *   the oldest waiting when the limit was reached;
 * - `untracked_poll`: its poll is another member's and the session tracks only its own;
 * - `no_secret`, `no_pair_authenticates`: it cannot be decrypted;
 * - `malformed`: no poll key or no encrypted vote;
 * - `stale`: older than the voter's stored vote.
 */
export const VoteRejectionReason = z.enum([
  'unknown_poll',
  'untracked_poll',
  'no_secret',
  'no_pair_authenticates',
  'malformed',
  'stale',
]);
export type VoteRejectionReason = z.infer<typeof VoteRejectionReason>;

export const VoteRejection = z.object({
  reason: VoteRejectionReason,
  pollId: z.string().optional(),
  chatId: z.string().optional(),
  /** The id of the vote message. */
  messageId: z.string().optional(),
  detail: z.string(),
});
export type VoteRejection = z.infer<typeof VoteRejection>;

/** How many voters selected one option. */
export const OptionCount = z.object({ name: z.string(), hash: OptionHash, count: z.number() });
export type OptionCount = z.infer<typeof OptionCount>;

/** Per-option counts, in the order of the poll's options; hashes of no option are left out. */
export const countVotes = (poll: Pick<Poll, 'options' | 'voters'>): OptionCount[] => {
  const counts = new Map<string, number>(poll.options.map((o) => [o.hash, 0]));
  for (const voter of poll.voters) {
    for (const hash of voter.selected) {
      const n = counts.get(hash);
      if (n !== undefined) counts.set(hash, n + 1);
    }
  }
  return poll.options.map((o) => ({ name: o.name, hash: o.hash, count: counts.get(o.hash) ?? 0 }));
};

/** Counts per option name, in the order of the poll's options (the compat `results`). */
export const tallyPoll = (poll: Pick<Poll, 'options' | 'voters'>): Record<string, number> =>
  Object.fromEntries(countVotes(poll).map((c) => [c.name, c.count]));

/** Voters in a stable order (by id), so that the same state always looks the same. */
export const byVoter = (a: { voter: string }, b: { voter: string }): number =>
  a.voter < b.voter ? -1 : a.voter > b.voter ? 1 : 0;

/** Polls newest first (ties by id), the order every list of polls uses. */
export const newestFirst = (
  a: Pick<Poll, 'createdAt' | 'id'>,
  b: Pick<Poll, 'createdAt' | 'id'>,
): number => b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
