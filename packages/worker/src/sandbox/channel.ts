import {
  PollCreator,
  PollOptions,
  PollQuestion,
  SelectableCount,
  selectableWithinOptions,
} from '@pollmasters/shared';
import { z } from 'zod';
import { LedgerVote } from './ledger.js';
import { SentPoll } from './store.js';

const RequestId = z.union([z.string(), z.number()]);

/** Typed arrays over any buffer, shared memory included (a burst's votes may come in one). */
const AnyUint8Array = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'a Uint8Array');
const AnyUint32Array = z.custom<Uint32Array>((v) => v instanceof Uint32Array, 'a Uint32Array');

/**
 * What a member's phone knows of a poll, all it needs to cast encrypted votes on it: the
 * creation message's secret, its options, and which JIDs sign in its chat.
 */
export const BurstKeys = z.object({
  pollId: z.string(),
  options: z.array(z.string()),
  selectableCount: z.number().int().nonnegative(),
  /** The poll's `messageSecret`, base64. */
  messageSecret: z.string(),
  /** The creator JID that signs votes in this chat (our PN or our LID). */
  creatorJid: z.string(),
  /** Which of their JIDs the voters sign with in this chat. */
  voterForm: z.enum(['pn', 'lid']),
});
export type BurstKeys = z.infer<typeof BurstKeys>;

/**
 * `count` votes encrypted ahead of a burst (./burst.ts, `prepareVotes`), one per synthetic
 * voter `0..count-1` of `seed`, packed to cross threads and processes cheaply: vote i is
 * `payloads[offsets[i]..offsets[i + 1]]` with the 12 bytes of `ivs` at `12 * i`.
 */
export const PreparedVotes = z.strictObject({
  pollId: z.string(),
  seed: z.number().int().nonnegative(),
  count: z.number().int().min(1),
  payloads: AnyUint8Array,
  offsets: AnyUint32Array,
  ivs: AnyUint8Array,
  /** Option name -> votes selecting it: what the results must be once all are counted. */
  counts: z.record(z.string(), z.number().int().nonnegative()),
});
export type PreparedVotes = z.infer<typeof PreparedVotes>;

/** A poll made on the account's phone or by a member (`createPoll`; ./creators.ts). */
export const CreatePoll = selectableWithinOptions(
  z.strictObject({
    chatId: z.string(),
    /** PN or LID of a member of the chat who creates it; absent: the account's phone. */
    creator: z.string().optional(),
    name: PollQuestion,
    options: PollOptions,
    selectableCount: SelectableCount.default(0),
    /**
     * Hold the poll's own delivery back until `releasePoll` (across a restart too), while its
     * members vote on it (`autoVote`): its votes come first.
     */
    hold: z.boolean().default(false),
  }),
);
export type CreatePoll = z.output<typeof CreatePoll>;
export type CreatePollInput = z.input<typeof CreatePoll>;

/**
 * What a test (in any thread of the process) may post on the sandbox's BroadcastChannel.
 * Strict objects, because the network's own replies share the channel: a reply such as
 * `{type: 'ledger', requestId, polls}` must never be mistaken for a request.
 */
export const ControlMessage = z.discriminatedUnion('type', [
  /** Cast a specific vote now (also on a poll sent before a process restart). */
  z.strictObject({
    type: z.literal('vote'),
    pollId: z.string(),
    /** PN or LID of a member of the poll's chat. */
    voter: z.string(),
    options: z.array(z.string()),
    /** When given, answered with `voted` or `error`. */
    requestId: RequestId.optional(),
  }),
  /** The user unlinks us from their phone: close with `loggedOut` (401). */
  z.strictObject({ type: z.literal('logoutFromPhone') }),
  /** The network drops us: close with `connectionLost` (408); the app should reconnect. */
  z.strictObject({ type: z.literal('dropConnection') }),
  /** Asks for `ledger.expected` of every poll. */
  z.strictObject({ type: z.literal('ledger'), requestId: RequestId }),
  /** Creates a poll on the account's phone or by a member; answered with `pollCreated`. */
  z.strictObject({ type: z.literal('createPoll'), poll: CreatePoll, requestId: RequestId }),
  /** Delivers a poll created with `hold`; answered with `released`. */
  z.strictObject({ type: z.literal('releasePoll'), pollId: z.string(), requestId: RequestId }),
  /** Asks for what voters' phones know of these polls (`burstKeys`), to prepare a burst. */
  z.strictObject({
    type: z.literal('burstKeys'),
    pollIds: z.array(z.string()).min(1),
    requestId: RequestId,
  }),
  /**
   * Load for benchmarks: synthetic voters (outside the world's member lists, known to
   * `lidMapping`) each cast one vote, encrypted beforehand by the caller (`PreparedVotes`),
   * round-robin across the polls, in `messages.upsert` batches at `ratePerSec` or as fast as
   * possible. Not recorded in the ledger: answered with `burst` (the expected results).
   */
  z.strictObject({
    type: z.literal('voteBurst'),
    votes: z.array(PreparedVotes).min(1),
    ratePerSec: z.number().positive().optional(),
    batchSize: z.number().int().min(1).max(10_000).default(500),
    requestId: RequestId,
  }),
]);
export type ControlMessage = z.infer<typeof ControlMessage>;

/** What the network posts on the channel. */
export const SandboxEvent = z.discriminatedUnion('type', [
  /** Every vote the network casts, redeliveries included, and our account's votes it read. */
  z.object({ type: z.literal('cast'), vote: LedgerVote }),
  /** A vote our account sent that the members could not read (it is not in the ledger). */
  z.object({
    type: z.literal('undecryptable'),
    chatId: z.string(),
    pollId: z.string().optional(),
    messageId: z.string(),
    problem: z.string(),
  }),
  /** The answer to a `ledger` request: per poll id, voter id -> options of their newest vote. */
  z.object({
    type: z.literal('ledger'),
    requestId: RequestId,
    polls: z.record(z.string(), z.record(z.string(), z.array(z.string()))),
    /** Per poll id, votes the network has yet to cast or deliver on its own (0 = settled). */
    pending: z.record(z.string(), z.number().int().nonnegative()),
    /** Per poll id, who created it, as a correct count names them. */
    creators: z.record(z.string(), PollCreator),
  }),
  /** The answer to `createPoll`. */
  z.object({ type: z.literal('pollCreated'), requestId: RequestId, poll: SentPoll }),
  /** The answer to `releasePoll`. */
  z.object({ type: z.literal('released'), requestId: RequestId, pollId: z.string() }),
  /**
   * Messages delivered again on a login because no acknowledgement of an earlier delivery
   * reached the network (the connection died first), by message id.
   */
  z.object({ type: z.literal('redelivered'), messageIds: z.array(z.string()) }),
  /** The answer to a `vote` request that carried a `requestId`. */
  z.object({ type: z.literal('voted'), requestId: RequestId, vote: LedgerVote }),
  z.object({ type: z.literal('error'), requestId: RequestId, message: z.string() }),
  /** The answer to `voteBurst`, once every vote was handed to the app. */
  z.object({
    type: z.literal('burst'),
    requestId: RequestId,
    /** Per poll id: votes cast, distinct voters, option name -> expected count. */
    polls: z.record(
      z.string(),
      z.object({ cast: z.number(), voters: z.number(), counts: z.record(z.string(), z.number()) }),
    ),
    /** Unix ms of the first and last injection. */
    firstAt: z.number(),
    lastAt: z.number(),
  }),
  /** The answer to `burstKeys`: one per poll, in the order asked. */
  z.object({ type: z.literal('burstKeys'), requestId: RequestId, keys: z.array(BurstKeys) }),
]);
export type SandboxEvent = z.infer<typeof SandboxEvent>;
