import { z } from 'zod';
import { ErrorPayload } from '../../errors.js';
import { Poll, SendPollInput, VoteRejection } from '../../poll.js';
import { VotePollInput, VotePollResult } from '../../pollVote.js';
import { Chat, PhoneNumber, SessionState, SessionStatus, WhatsAppUser } from '../../session.js';
import { SessionId } from '../../sessions.js';
import { EarlyVoteReport, PollTracking } from '../../tracking.js';
import { PackedVotes, packVotes } from './voteBatch.js';
import {
  WebhookSettings,
  WebhookStatsEvent,
  webhookCommandResults,
  webhookCommands,
} from './webhookCommands.js';

/**
 * The worker channel: commands the API sends to a worker's sessions, their results, and the
 * events the sessions emit. A worker hosts several sessions: every message carries the id of
 * the session it is for, or `WORKER_CHANNEL` for the worker itself (its `ready`, `shutdown`).
 */

/** The address of the worker itself rather than one of its sessions. */
export const WORKER_CHANNEL = '*';

/** What a worker needs to host a session. */
export const SessionOpen = z.object({
  /** The session's folder: its SQLite database lives there. */
  dataDir: z.string().min(1),
  /** Whose polls it tracks, and how it keeps votes that come before their poll. */
  tracking: PollTracking.prefault({}),
  /** Run it against its own simulated WhatsApp network with these options. */
  sandbox: z.record(z.string(), z.unknown()).optional(),
  /** How it delivers its webhooks. */
  webhooks: WebhookSettings.prefault({}),
  /**
   * Keep the store in this PostgreSQL database (POLLMASTERS_DATABASE_URL) instead of SQLite in
   * `dataDir`. Never logged: it may carry a password.
   */
  databaseUrl: z.string().startsWith('postgres').optional(),
  /**
   * The fencing token of the lease this session is opened under (PostgreSQL only): installed
   * at open (refused when a newer one is there), checked by every write transaction.
   */
  fence: z.number().int().positive().optional(),
});
export type SessionOpen = z.output<typeof SessionOpen>;
export type SessionOpenInput = z.input<typeof SessionOpen>;

export const Command = z.discriminatedUnion('type', [
  /** Host the session the call is addressed to: open its database, connect it. */
  z.object({ type: z.literal('openSession'), session: SessionOpen }),
  /** Flush the session's pending writes, disconnect it and close its database. */
  z.object({ type: z.literal('closeSession') }),
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
  /**
   * Session state and a page of the stored polls (by id, after `after`), to (re)build the
   * API's read model: the caller asks again with `after: next` until `next` is null. Pages end
   * at about `SNAPSHOT_PAGE_VOTERS` voters, so that a large account never crosses the thread
   * boundary (and its validation) as one message.
   */
  z.object({ type: z.literal('snapshot'), after: z.string().optional() }),
  /** To the worker: close every session it hosts (as `closeSession`). */
  z.object({ type: z.literal('shutdown') }),
  /** To the worker: answer, to show its event loop is not stuck (for `/healthz`). */
  z.object({ type: z.literal('ping') }),
  /** A session's webhook endpoints and deliveries (./webhookCommands.ts). */
  ...webhookCommands,
]);
export type Command = z.infer<typeof Command>;
export type CommandType = Command['type'];
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;

/** Voters in one page of the `snapshot` command (a page holds one poll at least). */
export const SNAPSHOT_PAGE_VOTERS = 20_000;

/** The result schema of each command. */
export const CommandResult = {
  openSession: z.object({}),
  closeSession: z.object({}),
  sendPoll: z.object({ poll: Poll }),
  votePoll: VotePollResult,
  listChats: z.object({ chats: z.array(Chat) }),
  logout: z.object({}),
  requestPairingCode: z.object({ code: z.string() }),
  snapshot: SessionState.extend({ polls: z.array(Poll), next: z.string().nullable() }),
  shutdown: z.object({}),
  ping: z.object({
    sessions: z.number().int().nonnegative(),
    /** The worker thread's CPU time so far (microseconds); null where the OS does not tell. */
    cpuUs: z.number().nonnegative().nullable(),
  }),
  ...webhookCommandResults,
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
  /**
   * Accepted votes, already stored, in the order they were applied (one event per tick); packed
   * into columns on the wire (./voteBatch.ts), `VoteChange[]` on either side.
   */
  z.object({ type: z.literal('votes'), changes: PackedVotes }),
  /** A vote that could not be used, and why. */
  z.object({ type: z.literal('voteRejected'), rejection: VoteRejection }),
  /** The early votes changed (parked, applied, given up); once at start too. */
  EarlyVoteReport.extend({ type: z.literal('earlyVotes') }),
  /** Webhook deliveries since the last report, and the outbox depth. */
  WebhookStatsEvent,
  /**
   * PostgreSQL refused a write of the session: another node installed a newer fencing token
   * (it owns the session now). Once per opening; the session stops (a `status` event follows).
   */
  z.object({ type: z.literal('fenced') }),
]);
export type WorkerEvent = z.infer<typeof WorkerEvent>;
/** An event as it crosses the channel (what `WorkerEvent` parses). */
export type WireEvent = z.input<typeof WorkerEvent>;

/** An event in its wire form: a `votes` batch packed into columns, anything else as it is. */
export const toWire = (event: WorkerEvent): WireEvent =>
  event.type === 'votes' ? { type: 'votes', changes: packVotes(event.changes) } : event;
export type WorkerEventType = WorkerEvent['type'];
export type WorkerEventOf<T extends WorkerEventType> = Extract<WorkerEvent, { type: T }>;

/** Commands for the worker itself, addressed to `WORKER_CHANNEL`; the others go to a session. */
export const workerCommands: ReadonlySet<CommandType> = new Set(['shutdown', 'ping']);

const ChannelAddress = z.union([SessionId, z.literal(WORKER_CHANNEL)]);

/** Everything that crosses the channel, in either direction. */
export const ChannelMessage = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('call'),
    id: z.number().int(),
    sessionId: ChannelAddress,
    command: z.unknown(),
  }),
  z.object({
    kind: z.literal('result'),
    id: z.number().int(),
    sessionId: ChannelAddress,
    result: z.unknown(),
  }),
  z.object({
    kind: z.literal('error'),
    /** Null when the failing message carried no usable id. */
    id: z.number().int().nullable(),
    sessionId: ChannelAddress,
    error: ErrorPayload,
  }),
  z.object({ kind: z.literal('event'), sessionId: ChannelAddress, event: z.unknown() }),
  /** The worker (or one session it opened) is set up; nothing is routed to it before. */
  z.object({ kind: z.literal('ready'), sessionId: ChannelAddress }),
]);
export type ChannelMessage = z.infer<typeof ChannelMessage>;
