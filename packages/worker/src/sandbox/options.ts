import { z } from 'zod';

/** How long simulated people take between two steps of their voting, in milliseconds. */
export const VoteDelay = z
  .object({
    min: z.number().int().min(0).default(50),
    max: z.number().int().min(0).default(400),
  })
  .refine((delay) => delay.min <= delay.max, { message: 'voteDelayMs.min must be <= max' });

/**
 * Everything that shapes a sandbox network. Every field has a default, so `{}` (or nothing)
 * gives a usable world; the same options (above all the same `seed`) give the same world.
 */
export const SandboxOptions = z.object({
  /** Seeds the world (people, chats) and every vote plan. */
  seed: z.number().int().default(1),
  /** LID-addressed groups (one PN-addressed group is always added on top). */
  groups: z.number().int().min(1).max(50).default(2),
  /** Members of each group, besides our own account. */
  membersPerGroup: z.number().int().min(1).max(256).default(5),
  /** PN-addressed direct chats (one LID-addressed direct chat is always added on top). */
  directChats: z.number().int().min(0).max(50).default(2),
  /** Time from the first QR (or a pairing-code request) until the simulated phone links us. */
  qrScanDelayMs: z.number().int().min(0).default(300),
  /** Time from `connecting` until the server answers (QR offered, or login completed). */
  connectDelayMs: z.number().int().min(0).default(50),
  /** Time WhatsApp takes to answer the list of the account's groups. */
  groupFetchDelayMs: z.number().int().min(0).max(60_000).default(0),
  voteDelayMs: VoteDelay.default({ min: 50, max: 400 }),
  /** Share of voters who later change their vote. */
  changeRate: z.number().min(0).max(1).default(0.3),
  /** Share of voters who finally withdraw their vote (an empty selection). */
  withdrawRate: z.number().min(0).max(1).default(0.15),
  /**
   * Time from handing a message to our socket until its acknowledgement reaches the network.
   * A message whose connection dies before that is delivered again on the next login.
   */
  ackDelayMs: z.number().int().min(0).max(10_000).default(100),
  /** Whether the members of a chat vote on every poll sent there. */
  autoVote: z.boolean().default(true),
  /**
   * Polls from before the app was linked (made on the account's phone and by members, with
   * their votes), delivered in the history sync of the first login.
   */
  historyPolls: z.number().int().min(0).max(50).default(0),
  /** Where the network keeps what must survive a process restart; memory only when absent. */
  stateDir: z.string().min(1).optional(),
  /** The `BroadcastChannel` that reports casts and takes control messages. */
  channelName: z.string().min(1).default('pollmasters-sandbox'),
});
export type SandboxOptions = z.output<typeof SandboxOptions>;
/** What callers may pass: every field optional. */
export type SandboxOptionsInput = z.input<typeof SandboxOptions>;
