import { z } from 'zod';
import {
  WebhookCreateBody,
  WebhookDeliveriesQuery,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEndpointId,
  WebhookEndpointList,
  WebhookEndpointWithSecret,
  WebhookReplayResult,
  WebhookUpdateBody,
} from '../../webhooks.js';

/** How a session delivers its webhooks (the server's flags; short delays in tests). */
export const WebhookSettings = z.object({
  /** Hosts (exact names) and CIDRs that may be used although private or loopback. */
  allow: z.array(z.string()).default([]),
  /** Attempts per delivery before it is `failed`. */
  maxAttempts: z.number().int().min(1).max(100).default(8),
  /** The first retry's delay; each next one doubles (with jitter), up to `retryMaxMs`. */
  retryBaseMs: z.number().int().min(1).default(5_000),
  retryMaxMs: z.number().int().min(1).default(3_600_000),
  connectTimeoutMs: z.number().int().min(1).default(5_000),
  responseTimeoutMs: z.number().int().min(1).default(10_000),
  /** Deliveries in flight at once for the session (one per endpoint, always). */
  concurrency: z.number().int().min(1).max(64).default(4),
});
export type WebhookSettings = z.output<typeof WebhookSettings>;

const onEndpoint = { endpointId: WebhookEndpointId };

/** The webhook commands of the worker channel (the session's worker owns its endpoints). */
export const webhookCommands = [
  z.object({ type: z.literal('webhookCreate'), body: WebhookCreateBody }),
  z.object({ type: z.literal('webhookList') }),
  z.object({ type: z.literal('webhookGet'), ...onEndpoint }),
  z.object({ type: z.literal('webhookUpdate'), ...onEndpoint, body: WebhookUpdateBody }),
  z.object({ type: z.literal('webhookDelete'), ...onEndpoint }),
  z.object({ type: z.literal('webhookRotate'), ...onEndpoint }),
  z.object({ type: z.literal('webhookDeliveries'), ...onEndpoint, query: WebhookDeliveriesQuery }),
  z.object({
    type: z.literal('webhookReplay'),
    ...onEndpoint,
    deliveryId: z.number().int().positive().optional(),
  }),
] as const;

export type WebhookCommandType = (typeof webhookCommands)[number]['shape']['type']['value'];

export const webhookCommandResults = {
  webhookCreate: WebhookEndpointWithSecret,
  webhookList: WebhookEndpointList,
  webhookGet: WebhookEndpoint,
  webhookUpdate: WebhookEndpoint,
  webhookDelete: z.object({}),
  webhookRotate: WebhookEndpointWithSecret,
  webhookDeliveries: z.object({ deliveries: z.array(WebhookDelivery) }),
  webhookReplay: WebhookReplayResult,
};

/** What the session's deliveries did since its last report, and what waits (for /metrics). */
export const WebhookStatsEvent = z.object({
  type: z.literal('webhookStats'),
  /** Attempts since the last report, by outcome. */
  delivered: z.number().int().nonnegative(),
  retried: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  /** Deliveries pending now (the outbox depth). */
  pending: z.number().int().nonnegative(),
  /** When the oldest pending delivery's event was stored (ms since the epoch), if any. */
  oldestPendingAt: z.number().nullable(),
});
