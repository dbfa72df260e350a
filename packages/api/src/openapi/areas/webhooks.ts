import {
  SessionId,
  WebhookCreateBody,
  WebhookDeliveriesQuery,
  WebhookDelivery,
  WebhookDeliveryCounts,
  WebhookDeliveryList,
  WebhookDeliveryStatus,
  WebhookEndpoint,
  WebhookEndpointId,
  WebhookEndpointList,
  WebhookEndpointWithSecret,
  WebhookEvent,
  type WebhookEventType,
  WebhookListedEndpoint,
  WebhookReplayBody,
  WebhookReplayResult,
  WebhookUpdateBody,
} from '@pollmasters/shared';
import { z } from 'zod';
import type { ApiArea, ParameterDoc, ResponseDoc, WebhookDoc } from '../area.js';
import { apiBodyFailures, apiFailure, apiFailures, apiForbidden } from '../failures.js';

const base = '/api/sessions/{id}/webhooks';

const sessionId: ParameterDoc = {
  name: 'id',
  in: 'path',
  description: 'The session whose webhooks these are.',
  schema: SessionId,
};
const endpointId: ParameterDoc = {
  name: 'endpointId',
  in: 'path',
  description: "The endpoint's id (`ep_...`).",
  schema: WebhookEndpointId,
};

/** What every route on a session's webhooks may answer besides its own. */
const failures = {
  '400': apiFailure('A bad session or endpoint id, or a bad body or query; nothing changed.'),
  '403': apiForbidden,
  '404': apiFailure('No such session or endpoint.'),
  ...apiFailures,
} satisfies Record<string, ResponseDoc>;

const withBody = { ...failures, '413': apiBodyFailures['413'] };

/** What each event says; its payload is the event's member of `WebhookEvent`. */
const eventSummaries: Record<WebhookEventType, string> = {
  'poll.sent': 'A poll was stored (sent here, or from WhatsApp): the poll as stored',
  'poll.vote': "A vote was counted: what it added and removed, the voter's selection, the tally",
  'poll.vote.rejected': 'A vote could not be counted, and why',
  'session.status': "The session's WhatsApp status changed",
};

const delivery: Record<string, ResponseDoc> = {
  '200': {
    description:
      'Any 2xx: delivered. Anything else, or no answer in time, is retried with backoff (the same `webhook-id`), then marked failed (replay it with `POST .../replay`).',
  },
};

const events: Record<string, WebhookDoc> = Object.fromEntries(
  WebhookEvent.options.map((payload) => {
    const type = payload.shape.type.value;
    return [
      type,
      {
        summary: eventSummaries[type],
        description:
          "POSTed to each endpoint subscribed to it, in order, signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature` with the endpoint's secret).",
        payload,
        responses: delivery,
      },
    ];
  }),
);

/** A session's webhook endpoints (../../rest/webhookRoutes.ts) and the events they receive. */
export const webhooksArea: ApiArea = {
  tag: 'webhooks',
  description:
    "Endpoints that receive a session's events as signed HTTP POSTs (Standard Webhooks), with their deliveries. The events are under `webhooks`.",
  schemas: {
    WebhookEndpoint,
    WebhookEndpointWithSecret,
    WebhookDeliveryCounts,
    WebhookListedEndpoint,
    WebhookEndpointList,
    WebhookCreateBody,
    WebhookUpdateBody,
    WebhookDelivery,
    WebhookDeliveryList,
    WebhookReplayBody,
    WebhookReplayResult,
  },
  routes: [
    {
      method: 'get',
      path: base,
      operationId: 'listWebhooks',
      summary: "A session's webhook endpoints",
      description:
        'Each with `deliveries`: how many of its deliveries are pending, failed and delivered now (exact; delivered ones are kept 7 days).',
      parameters: [sessionId],
      responses: {
        '200': { description: 'The endpoints.', schema: WebhookEndpointList },
        ...failures,
      },
    },
    {
      method: 'post',
      path: base,
      operationId: 'createWebhook',
      summary: 'Add a webhook endpoint',
      description:
        'Every event type unless `events` names some. The answer holds the signing `secret`, shown this once.',
      parameters: [sessionId],
      body: { schema: WebhookCreateBody },
      responses: {
        '201': { description: 'Created, with its secret.', schema: WebhookEndpointWithSecret },
        ...withBody,
      },
    },
    {
      method: 'get',
      path: `${base}/{endpointId}`,
      operationId: 'getWebhook',
      summary: 'One webhook endpoint',
      parameters: [sessionId, endpointId],
      responses: { '200': { description: 'The endpoint.', schema: WebhookEndpoint }, ...failures },
    },
    {
      method: 'patch',
      path: `${base}/{endpointId}`,
      operationId: 'updateWebhook',
      summary: 'Change its URL or events, or pause or resume it',
      description: 'A paused endpoint keeps its events; they are sent once it is resumed.',
      parameters: [sessionId, endpointId],
      body: { schema: WebhookUpdateBody },
      responses: {
        '200': { description: 'The endpoint now.', schema: WebhookEndpoint },
        ...withBody,
      },
    },
    {
      method: 'delete',
      path: `${base}/{endpointId}`,
      operationId: 'deleteWebhook',
      summary: 'Remove a webhook endpoint, with its deliveries',
      parameters: [sessionId, endpointId],
      responses: { '200': { description: 'Removed.', schema: z.object({}) }, ...failures },
    },
    {
      method: 'post',
      path: `${base}/{endpointId}/secret`,
      operationId: 'rotateWebhookSecret',
      summary: "Replace an endpoint's signing secret",
      description: 'The new secret is shown this once; the next deliveries are signed with it.',
      parameters: [sessionId, endpointId],
      responses: {
        '200': {
          description: 'The endpoint with its new secret.',
          schema: WebhookEndpointWithSecret,
        },
        ...failures,
      },
    },
    {
      method: 'get',
      path: `${base}/{endpointId}/deliveries`,
      operationId: 'listWebhookDeliveries',
      summary: "An endpoint's deliveries, newest first",
      parameters: [
        sessionId,
        endpointId,
        { name: 'status', in: 'query', description: 'Only these.', schema: WebhookDeliveryStatus },
        {
          name: 'limit',
          in: 'query',
          description: 'At most this many (default 100).',
          schema: WebhookDeliveriesQuery.shape.limit,
        },
        {
          name: 'before',
          in: 'query',
          description: 'Only deliveries with a smaller id (the next page).',
          schema: WebhookDeliveriesQuery.shape.before.unwrap(),
        },
      ],
      responses: {
        '200': { description: 'The deliveries.', schema: WebhookDeliveryList },
        ...failures,
      },
    },
    {
      method: 'post',
      path: `${base}/{endpointId}/replay`,
      operationId: 'replayWebhook',
      summary: 'Send failed deliveries again',
      description: 'One (`deliveryId`) or, without it, every failed delivery of the endpoint.',
      parameters: [sessionId, endpointId],
      body: { schema: WebhookReplayBody, required: false },
      responses: {
        '200': { description: 'How many were queued again.', schema: WebhookReplayResult },
        ...withBody,
      },
    },
  ],
  webhooks: events,
};
