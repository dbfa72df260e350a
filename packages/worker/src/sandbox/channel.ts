import { z } from 'zod';
import { LedgerVote } from './ledger.js';

const RequestId = z.union([z.string(), z.number()]);

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
  /**
   * Load for benchmarks: `count` synthetic voters per poll (outside the world's member lists,
   * known to `lidMapping`) each cast one real encrypted vote, round-robin across the polls.
   * Encrypted first, then delivered in `messages.upsert` batches, at `ratePerSec` or as fast as
   * possible. Not recorded in the ledger: answered with `burst` (the expected results).
   */
  z.strictObject({
    type: z.literal('voteBurst'),
    polls: z.array(z.strictObject({ pollId: z.string(), count: z.number().int().min(1) })).min(1),
    seed: z.number().int().nonnegative(),
    ratePerSec: z.number().positive().optional(),
    batchSize: z.number().int().min(1).max(10_000).default(500),
    requestId: RequestId,
  }),
]);
export type ControlMessage = z.infer<typeof ControlMessage>;

/** What the network posts on the channel. */
export const SandboxEvent = z.discriminatedUnion('type', [
  /** Every vote the network casts, redeliveries included. */
  z.object({ type: z.literal('cast'), vote: LedgerVote }),
  /** The answer to a `ledger` request: per poll id, voter id -> options of their newest vote. */
  z.object({
    type: z.literal('ledger'),
    requestId: RequestId,
    polls: z.record(z.string(), z.record(z.string(), z.array(z.string()))),
    /** Per poll id, votes the network has yet to cast or deliver on its own (0 = settled). */
    pending: z.record(z.string(), z.number().int().nonnegative()),
  }),
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
    /**
     * Unix ms of the first and last injection; the encryption before the first, as elapsed
     * time and as the process's CPU time (every thread's) meanwhile.
     */
    firstAt: z.number(),
    lastAt: z.number(),
    preparedMs: z.number(),
    preparedCpuUs: z.number(),
  }),
]);
export type SandboxEvent = z.infer<typeof SandboxEvent>;
