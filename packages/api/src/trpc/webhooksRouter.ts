import {
  WebhookCreateInput,
  WebhookDeliveriesInput,
  WebhookEndpointInput,
  WebhookListInput,
  WebhookReplayInput,
  WebhookUpdateInput,
} from '@pollmasters/shared';
import { procedure, router } from './init.js';
import { sessionOf } from './sessionOf.js';

/**
 * A session's webhook endpoints (`sessionId`, default `default`; the session must be started,
 * as its worker keeps them): create and rotate answer the signing secret, the only time it is
 * shown. Bad input is BAD_REQUEST and changes nothing.
 */
export const webhooksRouter = router({
  list: procedure
    .input(WebhookListInput)
    .query(({ ctx, input }) => sessionOf(ctx, input.sessionId).webhook({ type: 'webhookList' })),
  get: procedure
    .input(WebhookEndpointInput)
    .query(({ ctx, input: { sessionId, endpointId } }) =>
      sessionOf(ctx, sessionId).webhook({ type: 'webhookGet', endpointId }),
    ),
  create: procedure
    .input(WebhookCreateInput)
    .mutation(({ ctx, input: { sessionId, ...body } }) =>
      sessionOf(ctx, sessionId).webhook({ type: 'webhookCreate', body }),
    ),
  /** Changes the URL, the events or `paused` (at least one); resuming sends what waited. */
  update: procedure
    .input(WebhookUpdateInput)
    .mutation(({ ctx, input: { sessionId, endpointId, ...body } }) =>
      sessionOf(ctx, sessionId).webhook({ type: 'webhookUpdate', endpointId, body }),
    ),
  delete: procedure
    .input(WebhookEndpointInput)
    .mutation(({ ctx, input: { sessionId, endpointId } }) =>
      sessionOf(ctx, sessionId).webhook({ type: 'webhookDelete', endpointId }),
    ),
  /** A new secret, answered once; every attempt from now on is signed with it. */
  rotateSecret: procedure
    .input(WebhookEndpointInput)
    .mutation(({ ctx, input: { sessionId, endpointId } }) =>
      sessionOf(ctx, sessionId).webhook({ type: 'webhookRotate', endpointId }),
    ),
  /** The endpoint's deliveries, newest first (`status`, `limit`, `before` a delivery id). */
  deliveries: procedure
    .input(WebhookDeliveriesInput)
    .query(({ ctx, input: { sessionId, endpointId, ...query } }) =>
      sessionOf(ctx, sessionId).webhook({ type: 'webhookDeliveries', endpointId, query }),
    ),
  /** Sends failed deliveries again (same `webhook-id`): `deliveryId`, or all of the endpoint's. */
  replay: procedure
    .input(WebhookReplayInput)
    .mutation(({ ctx, input: { sessionId, endpointId, deliveryId } }) =>
      sessionOf(ctx, sessionId).webhook({
        type: 'webhookReplay',
        endpointId,
        ...(deliveryId !== undefined ? { deliveryId } : {}),
      }),
    ),
});
