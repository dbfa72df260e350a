import { z } from 'zod';
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
});
export type SessionRecord = z.infer<typeof SessionRecord>;
