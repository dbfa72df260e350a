import { z } from 'zod';
import { OptionHash, Poll, VoteRejectionReason } from './poll.js';
import { SessionStatus } from './session.js';
import { SessionId, SessionInput } from './sessions.js';

/**
 * Webhooks: the events PollMasters sends to a session's endpoints (each a zod schema, so that a
 * TypeScript receiver can parse what it gets with this package), the endpoints and their
 * deliveries as the API shows them, and the inputs of `webhooks.*` and
 * `/api/sessions/:id/webhooks`. Browser-safe: schemas only.
 */

export const WebhookEventType = z.enum([
  'poll.sent',
  'poll.vote',
  'poll.vote.rejected',
  'session.status',
]);
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** An option of a poll as an event names it: its text and its hash (SHA-256 hex of the text). */
export const WebhookOption = z.object({ name: z.string(), hash: OptionHash });
export type WebhookOption = z.infer<typeof WebhookOption>;

/** A voter as an event names them; `jid` (phone number) and `lid` where known. */
export const WebhookVoter = z.object({
  /** Canonical id, as in polls: the phone-number JID when known, else the LID. */
  id: z.string(),
  /** Phone-number JID (`...@s.whatsapp.net`), when known. */
  jid: z.string().nullable(),
  /** LID (`...@lid`), when known. */
  lid: z.string().nullable(),
  name: z.string().nullable(),
});
export type WebhookVoter = z.infer<typeof WebhookVoter>;

export const PollVoteData = z.object({
  pollId: z.string(),
  chatId: z.string(),
  voter: WebhookVoter,
  /** Options this voter selected with this vote that they had not selected before. */
  added: z.array(WebhookOption),
  /** Options this voter had selected before this vote and no longer has. */
  removed: z.array(WebhookOption),
  /** The voter's selection now (empty: withdrawn). */
  selected: z.array(WebhookOption),
  /**
   * The poll's counts after this vote, in the order of its options, by option text (unique in
   * a poll; `poll.sent` and the poll's `options` give each one's hash).
   */
  tally: z.array(z.object({ name: z.string(), count: z.number().int().nonnegative() })),
  /** WhatsApp's timestamp of the vote, ms since the epoch. */
  votedAt: z.number(),
  /** The poll's version after this vote. */
  version: z.number().int().nonnegative(),
});
export type PollVoteData = z.infer<typeof PollVoteData>;

export const PollVoteRejectedData = z.object({
  reason: VoteRejectionReason,
  detail: z.string(),
  pollId: z.string().nullable(),
  chatId: z.string().nullable(),
  /** The id of the vote message, when known. */
  messageId: z.string().nullable(),
});
export type PollVoteRejectedData = z.infer<typeof PollVoteRejectedData>;

export const SessionStatusData = z.object({
  status: SessionStatus,
  previous: SessionStatus.nullable(),
});
export type SessionStatusData = z.infer<typeof SessionStatusData>;

const envelope = <T extends WebhookEventType, D extends z.ZodType>(type: T, data: D) =>
  z.object({
    type: z.literal(type),
    /** When the event was stored: ISO 8601, UTC. */
    timestamp: z.string(),
    sessionId: SessionId,
    data,
  });

/**
 * The body of every webhook request: `{type, timestamp, sessionId, data}`. Parse a received
 * body with `WebhookEvent.parse(JSON.parse(body))` after verifying its signature.
 */
export const WebhookEvent = z.discriminatedUnion('type', [
  /** A poll was stored (sent here, or from WhatsApp): the poll as stored. */
  envelope('poll.sent', Poll),
  envelope('poll.vote', PollVoteData),
  envelope('poll.vote.rejected', PollVoteRejectedData),
  envelope('session.status', SessionStatusData),
]);
export type WebhookEvent = z.infer<typeof WebhookEvent>;
export type WebhookEventOf<T extends WebhookEventType> = Extract<WebhookEvent, { type: T }>;

/** An endpoint's URL: `http:` or `https:`, no credentials in it (checked again by the server). */
export const WebhookUrl = z
  .string()
  .trim()
  .max(2048, 'url: at most 2048 characters')
  .superRefine((s, ctx) => {
    const url = URL.parse(s);
    const problem = !url
      ? 'url: not a valid URL'
      : !/^https?:$/.test(url.protocol)
        ? 'url: only http: and https: URLs'
        : url.username !== '' || url.password !== ''
          ? 'url: must not contain a user name or password'
          : undefined;
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** The events an endpoint receives: at least one, each once. */
export const WebhookEventTypes = z
  .array(WebhookEventType)
  .min(1, 'events: name at least one event type')
  .refine((e) => new Set(e).size === e.length, 'events: each type once');

/** An endpoint id, as the server makes them (`ep_...`). */
export const WebhookEndpointId = z.string().regex(/^ep_[A-Za-z0-9_-]{1,64}$/, 'not an endpoint id');

export const WebhookEndpoint = z.object({
  id: WebhookEndpointId,
  sessionId: SessionId,
  url: z.string(),
  events: z.array(WebhookEventType),
  /** A paused endpoint keeps its events (they wait); nothing is sent until it is resumed. */
  paused: z.boolean(),
  /** Milliseconds since the epoch. */
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type WebhookEndpoint = z.infer<typeof WebhookEndpoint>;

/** An endpoint just created, or its secret just rotated: the secret, shown this once. */
export const WebhookEndpointWithSecret = WebhookEndpoint.extend({
  /** `whsec_` + base64: give it to a Standard Webhooks library to verify the signatures. */
  secret: z.string(),
});
export type WebhookEndpointWithSecret = z.infer<typeof WebhookEndpointWithSecret>;

export const WebhookCreateBody = z.strictObject({
  url: WebhookUrl,
  /** Default: every event type. */
  events: WebhookEventTypes.default([...WebhookEventType.options]),
  paused: z.boolean().default(false),
});
export type WebhookCreateBody = z.input<typeof WebhookCreateBody>;

/** What an update may change; at least one of them (`changesSomething`). */
const WebhookUpdateFields = z.strictObject({
  url: WebhookUrl.optional(),
  events: WebhookEventTypes.optional(),
  paused: z.boolean().optional(),
});
const changesSomething = [
  (b: z.infer<typeof WebhookUpdateFields>) =>
    b.url !== undefined || b.events !== undefined || b.paused !== undefined,
  'give url, events or paused',
] as const;
export const WebhookUpdateBody = WebhookUpdateFields.refine(...changesSomething);
export type WebhookUpdateBody = z.input<typeof WebhookUpdateBody>;

export const WebhookDeliveryStatus = z.enum(['pending', 'delivered', 'failed']);
export type WebhookDeliveryStatus = z.infer<typeof WebhookDeliveryStatus>;

/** One event for one endpoint. */
export const WebhookDelivery = z.object({
  /** The delivery's own id (a number, in the order the events were stored). */
  id: z.number().int().positive(),
  endpointId: WebhookEndpointId,
  /** The event's `webhook-id` header: the same on every attempt and replay. */
  eventId: z.string(),
  type: WebhookEventType,
  status: WebhookDeliveryStatus,
  attempts: z.number().int().nonnegative(),
  /** HTTP status of the last attempt's answer (null: none yet, or no answer). */
  lastResponseCode: z.number().int().nullable(),
  /** Why the last attempt failed, when it did. */
  lastError: z.string().nullable(),
  /** When the next attempt is due (ms since the epoch), while pending. */
  nextAttemptAt: z.number().nullable(),
  createdAt: z.number(),
  deliveredAt: z.number().nullable(),
});
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

/** Filters of a deliveries list: newest first, `before` a delivery id to page. */
export const WebhookDeliveriesQuery = z.strictObject({
  status: WebhookDeliveryStatus.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().positive().optional(),
});
export type WebhookDeliveriesQuery = z.input<typeof WebhookDeliveriesQuery>;

/** Which failed deliveries of an endpoint to send again: one (`deliveryId`) or all. */
export const WebhookReplayBody = z.strictObject({
  deliveryId: z.number().int().positive().optional(),
});
export type WebhookReplayBody = z.input<typeof WebhookReplayBody>;

/**
 * How many of an endpoint's deliveries are in each status now, exact (delivered ones are kept
 * 7 days, so `delivered` counts those of the last 7 days).
 */
const deliveryCount = z.number().int().nonnegative();
export const WebhookDeliveryCounts = z.object({
  pending: deliveryCount,
  failed: deliveryCount,
  delivered: deliveryCount,
} satisfies Record<WebhookDeliveryStatus, z.ZodType>);
export type WebhookDeliveryCounts = z.infer<typeof WebhookDeliveryCounts>;

/** An endpoint as the list shows it: with how its deliveries stand. */
export const WebhookListedEndpoint = WebhookEndpoint.extend({ deliveries: WebhookDeliveryCounts });
export type WebhookListedEndpoint = z.infer<typeof WebhookListedEndpoint>;

// --- REST answers (`/api/sessions/:id/webhooks`)
export const WebhookEndpointList = z.object({ endpoints: z.array(WebhookListedEndpoint) });
export type WebhookEndpointList = z.infer<typeof WebhookEndpointList>;
export const WebhookDeliveryList = z.object({ deliveries: z.array(WebhookDelivery) });
export type WebhookDeliveryList = z.infer<typeof WebhookDeliveryList>;
export const WebhookReplayResult = z.object({ requeued: z.number().int().nonnegative() });
export type WebhookReplayResult = z.infer<typeof WebhookReplayResult>;

// --- tRPC inputs (`webhooks.*`): the session (default `default`) and the endpoint
const inSession = SessionInput;
const onEndpoint = inSession.extend({ endpointId: WebhookEndpointId });
export const WebhookListInput = inSession;
export const WebhookEndpointInput = onEndpoint;
export const WebhookCreateInput = inSession.extend(WebhookCreateBody.shape);
export const WebhookUpdateInput = onEndpoint
  .extend(WebhookUpdateFields.shape)
  .refine(...changesSomething);
export const WebhookDeliveriesInput = onEndpoint.extend(WebhookDeliveriesQuery.shape);
export const WebhookReplayInput = onEndpoint.extend(WebhookReplayBody.shape);
