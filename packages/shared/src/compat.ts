import { z } from 'zod';
import { Jid, OptionHash, type Poll, PollOptions, PollQuestion, tallyPoll } from './poll.js';
import { Chat, SessionStatus, WhatsAppUser } from './session.js';

/**
 * The compat API of the existing Python GUI: docs/contract/backend-api-endpoints.txt.
 * Field names and status strings are the contract's, not ours.
 */

/** `GET /status` */
export const StatusResponse = z.object({
  status: SessionStatus,
  qrCode: z.string().optional(),
  user: WhatsAppUser.optional(),
});
export type StatusResponse = z.infer<typeof StatusResponse>;

/** `POST /send-poll` body. `allowMultipleAnswers: true` is `selectableCount: 0`, false is 1. */
export const SendPollRequest = z.object({
  chatId: Jid,
  question: PollQuestion,
  options: PollOptions,
  allowMultipleAnswers: z.boolean(),
});
export type SendPollRequest = z.infer<typeof SendPollRequest>;

export const selectableCountOf = (allowMultipleAnswers: boolean): number =>
  allowMultipleAnswers ? 0 : 1;

export const SendPollResponse = z.object({
  success: z.literal(true),
  message: z.string(),
  pollMsgId: z.string(),
});
export type SendPollResponse = z.infer<typeof SendPollResponse>;

/** The failure shape of every compat route. */
export const FailureResponse = z.object({
  success: z.literal(false),
  message: z.string(),
  error: z.string().optional(),
});
export type FailureResponse = z.infer<typeof FailureResponse>;

/** `GET /get-chats` */
export const GetChatsResponse = z.object({ success: z.literal(true), chats: z.array(Chat) });
export type GetChatsResponse = z.infer<typeof GetChatsResponse>;

/** `POST /logout` */
export const LogoutResponse = z.object({ success: z.literal(true), message: z.string() });
export type LogoutResponse = z.infer<typeof LogoutResponse>;

/** The poll data object of the contract. */
export const PollData = z.object({
  question: z.string(),
  options: z.array(z.string()),
  /**
   * SHA-256 hex of each option's UTF-8 text -> that text, in the order of `options`: the
   * original server's shape, which lets a client look an option up by the hashes in `voters`.
   */
  optionHashes: z.record(OptionHash, z.string()),
  /** Option text -> number of voters who selected it. */
  results: z.record(z.string(), z.number().int().nonnegative()),
  /** Voter JID -> selected option hashes (hex); read-only (shared between voters). */
  voters: z.record(z.string(), z.array(OptionHash).readonly()),
  chatId: z.string(),
  /** Milliseconds since the epoch. */
  timestamp: z.number(),
  /** 0 = any number of answers, otherwise single choice. */
  selectableCount: z.number().int().nonnegative(),
});
export type PollData = z.infer<typeof PollData>;

/** pollMsgId -> poll data. */
export const AllPollData = z.record(z.string(), PollData);
export type AllPollData = z.infer<typeof AllPollData>;

/** `GET /get-all-poll-data` */
export const AllPollDataResponse = z.object({ success: z.literal(true), polls: AllPollData });
export type AllPollDataResponse = z.infer<typeof AllPollDataResponse>;

/** `new_poll_sent` payload. */
export const NewPollSent = z.object({ pollMsgId: z.string(), pollData: PollData });
export type NewPollSent = z.infer<typeof NewPollSent>;

/** `poll_update_to_gui` payload: the poll's full current state. */
export const PollUpdateToGui = PollData.extend({ pollMsgId: z.string() });
export type PollUpdateToGui = z.infer<typeof PollUpdateToGui>;

/** Socket.IO events from the server to the GUI, by name. */
export const CompatServerEvents = {
  /** A new raw QR payload to render. */
  qr_code: z.string(),
  /** The connection status changed. */
  client_status: SessionStatus,
  /** The logged-in user. */
  whatsapp_user: WhatsAppUser,
  /** Every tracked poll, on connection. */
  initial_poll_data: AllPollData,
  /** A poll was sent by this server. */
  new_poll_sent: NewPollSent,
  /** A poll's full state after new votes. */
  poll_update_to_gui: PollUpdateToGui,
} as const;
export type CompatServerEvents = {
  [E in keyof typeof CompatServerEvents]: (
    payload: z.infer<(typeof CompatServerEvents)[E]>,
  ) => void;
};

/**
 * Voter JID -> selection, as a null-prototype object. V8 keeps such an object as a hash table
 * from its first key, where a plain one goes through a hidden class per added key before it
 * gives up, which made every GUI push of a big poll (this, then Socket.IO's encoding) slower
 * (measured: docs/performance.md, "Two cheaper steps on the API thread"). The JSON is the same.
 */
const votersRecord = (voters: Poll['voters']): PollData['voters'] => {
  const out: PollData['voters'] = Object.create(null);
  for (const v of voters) out[v.voter] = v.selected;
  return out;
};

/** Option hash -> option text, in the poll's option order (the contract's `optionHashes`). */
export const optionHashesRecord = (options: Poll['options']): PollData['optionHashes'] => {
  const out: PollData['optionHashes'] = {};
  for (const o of options) out[o.hash] = o.name;
  return out;
};

/** A poll as the compat API shows it. */
export const toPollData = (poll: Poll): PollData => ({
  question: poll.question,
  options: poll.options.map((o) => o.name),
  optionHashes: optionHashesRecord(poll.options),
  results: tallyPoll(poll),
  voters: votersRecord(poll.voters),
  chatId: poll.chatId,
  timestamp: poll.createdAt,
  selectableCount: poll.selectableCount,
});
