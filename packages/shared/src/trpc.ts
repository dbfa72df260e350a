import { z } from 'zod';
import { ErrorInfo } from './errors.js';
import { Limits } from './limits.js';
import {
  Jid,
  OptionCount,
  Poll,
  PollContent,
  PollId,
  selectableWithinOptions,
  VoteChange,
} from './poll.js';
import { PhoneNumber, SessionState } from './session.js';
import { SessionId } from './sessions.js';

// The tRPC API's own messages. Inputs reuse the poll and session schemas; every type
// here is inferred by the server's router and reaches the client through `AppRouter`.

/** The session a procedure acts on; `default` when absent (clients from before sessions). */
const inSession = { sessionId: SessionId.optional() };

/** A tracked event id the client sends back to resume a subscription. */
export const LastEventId = z.string().max(128).nullish();

/** Client-chosen id of one multi-chat send, to follow its progress. */
export const SendId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\w-]+$/, 'sendId must be letters, digits, "_" or "-"');
export type SendId = z.infer<typeof SendId>;

/** One poll sent to one or more chats, paced by the server. */
export const SendPollsInput = selectableWithinOptions(
  PollContent.extend({
    chatIds: z
      .array(Jid)
      .min(1, 'give at least one chat')
      .max(Limits.maxChatsPerSend, `give at most ${Limits.maxChatsPerSend} chats per send`)
      .refine((ids) => new Set(ids).size === ids.length, 'chatIds must be unique'),
    /** Set it to follow the send through `polls.sendProgress`; the server picks one otherwise. */
    sendId: SendId.optional(),
    ...inSession,
  }),
);
export type SendPollsInput = z.infer<typeof SendPollsInput>;

/** What happened to one chat of a send. */
export const SendPollResult = z.object({
  chatId: z.string(),
  ok: z.boolean(),
  pollId: z.string().optional(),
  error: ErrorInfo.optional(),
});
export type SendPollResult = z.infer<typeof SendPollResult>;

export const SendPollsResult = z.object({
  sendId: SendId,
  /** One per chat, in the order of `chatIds`. */
  results: z.array(SendPollResult),
  sent: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
});
export type SendPollsResult = z.infer<typeof SendPollsResult>;

/** Progress of a multi-chat send: one `result` per chat, then `done`. */
export const SendProgressEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('result'),
    sendId: SendId,
    /** Position of this chat in `chatIds`, from 0. */
    index: z.number().int().nonnegative(),
    total: z.number().int().positive(),
    result: SendPollResult,
  }),
  z.object({
    type: z.literal('done'),
    sendId: SendId,
    total: z.number().int().positive(),
    sent: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
  }),
]);
export type SendProgressEvent = z.infer<typeof SendProgressEvent>;

export const SendProgressInput = z.object({
  sendId: SendId,
  lastEventId: LastEventId,
  ...inSession,
});
export type SendProgressInput = z.infer<typeof SendProgressInput>;

/**
 * `polls.list`: one page of polls, newest first. Start without `cursor`; pass each answer's
 * `nextCursor` for the next page, until it is null.
 */
export const PollListInput = z
  .object({
    /** Where the previous page ended (its `nextCursor`); absent: from the newest poll. */
    cursor: z.string().max(512).nullish(),
    /** Polls at most (fewer once the page holds `Limits.pollPageMaxVoters` voters). */
    limit: z.number().int().min(1).max(Limits.pollPageMax).optional(),
    ...inSession,
  })
  .nullish();
export type PollListInput = z.input<typeof PollListInput>;

/** A page of `polls.list`. */
export const PollPage = z.object({
  polls: z.array(Poll),
  /** The cursor of the next page; null when this page ends the list. */
  nextCursor: z.string().nullable(),
});
export type PollPage = z.infer<typeof PollPage>;

export const PollIdInput = z.object({ id: PollId });
export type PollIdInput = z.infer<typeof PollIdInput>;

export const PairingCodeInput = z.object({ phoneNumber: PhoneNumber });
export type PairingCodeInput = z.input<typeof PairingCodeInput>;

/** What votes changed in one poll: the changes, in order, and the poll's state after them. */
export const PollVotes = Poll.pick({
  chatId: true,
  version: true,
  unknownOptionVotes: true,
}).extend({
  pollId: z.string(),
  changes: z.array(VoteChange).min(1),
  counts: z.array(OptionCount),
  voterCount: z.number().int().nonnegative(),
});
export type PollVotes = z.infer<typeof PollVotes>;

/**
 * An event of `polls.updates`. Every event but `synced` carries, for each poll it is about,
 * that poll's resulting `version` (directly or in `poll`) and its per-option `counts`.
 */
export const PollEvent = z.discriminatedUnion('type', [
  /** A new poll was sent. */
  z.object({ type: z.literal('pollSent'), poll: Poll, counts: z.array(OptionCount) }),
  /**
   * Votes changed one or more polls: everything the server stored in one transaction, one
   * entry per poll (a subscription to one poll gets only that poll's entry).
   */
  z.object({ type: z.literal('votes'), polls: z.array(PollVotes).min(1) }),
  /**
   * The whole state of a poll: after the worker resynced, at the start of a subscription
   * without `lastEventId`, or when `lastEventId` can no longer be resumed (another server
   * run, or older than the server's event log). Replace what you hold for this poll.
   */
  z.object({ type: z.literal('pollState'), poll: Poll, counts: z.array(OptionCount) }),
  /** The subscription has caught up (after the `pollState` events of a resync); live from here. */
  z.object({ type: z.literal('synced') }),
]);
export type PollEvent = z.infer<typeof PollEvent>;

export const PollUpdatesInput = z
  .object({
    /** Only events of this poll. */
    pollId: PollId.optional(),
    /** Resume after this event (tRPC's clients set it themselves when they reconnect). */
    lastEventId: LastEventId,
    /** Without `lastEventId`: start with a `pollState` per poll (default) or only with `synced`. */
    snapshot: z.boolean().default(true),
    ...inSession,
  })
  .default({ snapshot: true });
export type PollUpdatesInput = z.input<typeof PollUpdatesInput>;

/** An event of `session.events`: the session's status, QR and user, as a whole. */
export const SessionEvent = z.object({ type: z.literal('state'), state: SessionState });
export type SessionEvent = z.infer<typeof SessionEvent>;

export const SessionEventsInput = z.object({ lastEventId: LastEventId, ...inSession }).default({});
export type SessionEventsInput = z.input<typeof SessionEventsInput>;

/** `sessions.events`: every session, then each change (a reconnect gets the list again). */
export const SessionsEventsInput = z.object({ lastEventId: LastEventId }).default({});
export type SessionsEventsInput = z.input<typeof SessionsEventsInput>;
