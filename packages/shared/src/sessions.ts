import { z } from 'zod';
import { PhoneNumber, SessionStatus, WhatsAppUser } from './session.js';
import { TrackPolls } from './tracking.js';

/** A session's id: lower-case letters, digits, `_` and `-`; it names its folder on disk. */
export const SessionId = z
  .string()
  .regex(/^[a-z0-9_-]{1,64}$/, 'a session id is 1 to 64 of a-z, 0-9, _ and -');
export type SessionId = z.infer<typeof SessionId>;

/** The session that the compat API serves and that every procedure defaults to. */
export const DEFAULT_SESSION = 'default';

/** What a session may set for itself; unset fields follow the server's flags. */
export const SessionSettings = z.object({ trackPolls: TrackPolls.optional() });
export type SessionSettings = z.infer<typeof SessionSettings>;

/** A session as the registry keeps it across restarts. */
export const SessionRecord = z.object({
  id: SessionId,
  /** Milliseconds since the epoch. */
  createdAt: z.number().int(),
  settings: SessionSettings,
  /** Whether the server starts it when it starts (set by start, cleared by stop). */
  shouldRun: z.boolean(),
  /**
   * SHA-256 (hex) of the session's own API key, if it has one; the key itself is never kept.
   * Never part of `SessionInfo`.
   */
  keyHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
export type SessionRecord = z.infer<typeof SessionRecord>;

/** Names the session a procedure acts on; without it, `default` (today's clients). */
export const SessionInput = z.object({ sessionId: SessionId.default(DEFAULT_SESSION) });
export type SessionInput = z.input<typeof SessionInput>;

export const SessionIdInput = z.object({ id: SessionId });
export type SessionIdInput = z.infer<typeof SessionIdInput>;

export const CreateSessionInput = z.object({
  id: SessionId,
  settings: SessionSettings.default({}),
  /** Start it at once (and whenever the server starts). */
  start: z.boolean().default(false),
  /** Also mint an API key that may use this session only; answered once, as `apiKey`. */
  scopedKey: z.boolean().default(false),
});
export type CreateSessionInput = z.input<typeof CreateSessionInput>;

export const DeleteSessionInput = z.object({
  id: SessionId,
  /** Also remove its data (polls, votes, its folder); without it only its login goes. */
  purge: z.boolean().default(false),
});
export type DeleteSessionInput = z.input<typeof DeleteSessionInput>;

/** Log a session in: with a phone number, by pairing code; without, by the QR it shows. */
export const SessionLoginInput = z.object({ id: SessionId, phoneNumber: PhoneNumber.optional() });
export type SessionLoginInput = z.input<typeof SessionLoginInput>;

export const SessionLoginResult = z.discriminatedUnion('method', [
  /** The raw QR payload to show; null when logged in already or not offered yet. */
  z.object({ method: z.literal('qr'), status: SessionStatus, qr: z.string().nullable() }),
  z.object({ method: z.literal('pairingCode'), code: z.string() }),
]);
export type SessionLoginResult = z.infer<typeof SessionLoginResult>;

/** Whether a session runs on a worker now. */
export const SessionRunState = z.enum(['starting', 'running', 'restarting', 'stopped']);

/** A session as the API describes it. */
export const SessionInfo = SessionRecord.omit({ keyHash: true }).extend({
  run: SessionRunState,
  status: SessionStatus,
  user: WhatsAppUser.nullable(),
  polls: z.number().int().nonnegative(),
  /** In a cluster: the node that runs it (its lease holder); absent when none does. */
  node: z.string().optional(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

/** `GET /api/sessions`: the sessions the caller's key may see. */
export const SessionList = z.object({ sessions: z.array(SessionInfo) });
export type SessionList = z.infer<typeof SessionList>;

/** What deleting a session answers: which, and whether its data went too. */
export const DeletedSession = z.object({ id: SessionId, purged: z.boolean() });
export type DeletedSession = z.infer<typeof DeletedSession>;

/** A session just created: with `scopedKey`, its key, which is shown this once only. */
export const CreatedSession = SessionInfo.extend({ apiKey: z.string().optional() });
export type CreatedSession = z.infer<typeof CreatedSession>;

/** A session's new scoped key (`sessions.rotateKey`): the old one stops working at once. */
export const RotatedKey = z.object({ id: SessionId, apiKey: z.string() });
export type RotatedKey = z.infer<typeof RotatedKey>;

/**
 * Who a caller is by the key it showed: the server's key (`admin`, every session) or a
 * session's own key (that session only).
 */
export const Principal = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('admin') }),
  z.object({ kind: z.literal('session'), sessionId: SessionId }),
]);
export type Principal = z.infer<typeof Principal>;
