import { z } from 'zod';
import { ErrorPayload } from '../errors.js';
import { Poll, SendPollInput, VoteChange, VoteRejection } from '../poll.js';
import { VotePollInput, VotePollResult } from '../pollVote.js';
import { Chat, PhoneNumber, SessionState, SessionStatus, WhatsAppUser } from '../session.js';
import { EarlyVoteReport } from '../tracking.js';

/**
 * The worker channel: commands the API sends to a session worker, their results, and the
 * events the worker emits. Every message carries the session id.
 */

export const Command = z.discriminatedUnion('type', [
  /** Send one poll to one chat. */
  z.object({ type: z.literal('sendPoll'), poll: SendPollInput }),
  /** Cast the account's own vote on a stored poll (an empty selection withdraws it). */
  z.object({ type: z.literal('votePoll'), vote: VotePollInput }),
  /** Groups and direct chats, sorted by name. */
  z.object({ type: z.literal('listChats') }),
  /** Log out of WhatsApp, wipe the auth state, and offer a fresh QR. */
  z.object({ type: z.literal('logout') }),
  /** Ask WhatsApp for a pairing code for this phone number (instead of a QR). */
  z.object({ type: z.literal('requestPairingCode'), phoneNumber: PhoneNumber }),
  /** Session state and every stored poll, to (re)build the API's read model. */
  z.object({ type: z.literal('snapshot') }),
  /** Flush pending writes, close the socket and the database. */
  z.object({ type: z.literal('shutdown') }),
]);
export type Command = z.infer<typeof Command>;
export type CommandType = Command['type'];
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;

/** The result schema of each command. */
export const CommandResult = {
  sendPoll: z.object({ poll: Poll }),
  votePoll: VotePollResult,
  listChats: z.object({ chats: z.array(Chat) }),
  logout: z.object({}),
  requestPairingCode: z.object({ code: z.string() }),
  snapshot: SessionState.extend({ polls: z.array(Poll) }),
  shutdown: z.object({}),
} satisfies Record<CommandType, z.ZodType>;
export type CommandResult<T extends CommandType> = z.infer<(typeof CommandResult)[T]>;

export const WorkerEvent = z.discriminatedUnion('type', [
  /** The connection status changed. */
  z.object({ type: z.literal('status'), status: SessionStatus, detail: z.string().optional() }),
  /** A new QR payload to show (raw, as WhatsApp sent it). */
  z.object({ type: z.literal('qr'), qr: z.string() }),
  /** The logged-in user, or null after logout. */
  z.object({ type: z.literal('user'), user: WhatsAppUser.nullable() }),
  /** A poll was stored: sent through the API, or come from WhatsApp (phone, history, member). */
  z.object({ type: z.literal('pollSent'), poll: Poll }),
  /** Accepted votes, already stored, in the order they were applied (one event per tick). */
  z.object({ type: z.literal('votes'), changes: z.array(VoteChange).min(1) }),
  /** A vote that could not be used, and why. */
  z.object({ type: z.literal('voteRejected'), rejection: VoteRejection }),
  /** The early votes changed (parked, applied, given up); once at start too. */
  EarlyVoteReport.extend({ type: z.literal('earlyVotes') }),
]);
export type WorkerEvent = z.infer<typeof WorkerEvent>;
export type WorkerEventType = WorkerEvent['type'];
export type WorkerEventOf<T extends WorkerEventType> = Extract<WorkerEvent, { type: T }>;

const SessionId = z.string().min(1);

/** Everything that crosses the channel, in either direction. */
export const ChannelMessage = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('call'),
    id: z.number().int(),
    sessionId: SessionId,
    command: z.unknown(),
  }),
  z.object({
    kind: z.literal('result'),
    id: z.number().int(),
    sessionId: SessionId,
    result: z.unknown(),
  }),
  z.object({
    kind: z.literal('error'),
    /** Null when the failing message carried no usable id. */
    id: z.number().int().nullable(),
    sessionId: SessionId,
    error: ErrorPayload,
  }),
  z.object({ kind: z.literal('event'), sessionId: SessionId, event: z.unknown() }),
  /** The worker has set itself up; nothing is routed to it before. */
  z.object({ kind: z.literal('ready'), sessionId: SessionId }),
]);
export type ChannelMessage = z.infer<typeof ChannelMessage>;
