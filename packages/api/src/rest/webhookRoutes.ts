import {
  type Principal,
  parseInput,
  WebhookCreateBody,
  WebhookDeliveriesQuery,
  WebhookEndpointId,
  WebhookReplayBody,
  WebhookUpdateBody,
} from '@pollmasters/shared';
import { type Request, Router } from 'express';
import { principalOfRequest } from '../access.js';
import type { SessionView } from '../session/sessionService.js';
import { jsonBodyOf } from './body.js';

/** What the webhook routes need of a session. */
export type RestWebhookSession = SessionView<'webhook'>;

const endpointOf = (req: Request): string => parseInput(WebhookEndpointId, req.params.endpointId);

/**
 * A session's webhooks over JSON HTTP, as tRPC's `webhooks.*`, under
 * `/sessions/:id/webhooks`: `GET` (list), `POST` `{url, events?, paused?}` (create: 201, with the
 * secret), `GET|PATCH|DELETE /:endpointId`, `POST /:endpointId/secret` (rotate: the new secret),
 * `GET /:endpointId/deliveries?status=&limit=&before=`, `POST /:endpointId/replay`
 * `{deliveryId?}`. Bad input is 400 and changes nothing.
 */
export const webhookRoutes = (
  sessionOf: (caller: Principal, id: string) => RestWebhookSession,
): Router => {
  const router = Router();
  const session = (req: Request) => sessionOf(principalOfRequest(req), String(req.params.id));
  const base = '/sessions/:id/webhooks';
  router.get(base, async (req, res) => {
    res.json(await session(req).webhook({ type: 'webhookList' }));
  });
  router.post(base, async (req, res) => {
    const body = jsonBodyOf(req, WebhookCreateBody);
    res.status(201).json(await session(req).webhook({ type: 'webhookCreate', body }));
  });
  router.get(`${base}/:endpointId`, async (req, res) => {
    res.json(await session(req).webhook({ type: 'webhookGet', endpointId: endpointOf(req) }));
  });
  router.patch(`${base}/:endpointId`, async (req, res) => {
    const endpointId = endpointOf(req);
    const body = jsonBodyOf(req, WebhookUpdateBody);
    res.json(await session(req).webhook({ type: 'webhookUpdate', endpointId, body }));
  });
  router.delete(`${base}/:endpointId`, async (req, res) => {
    res.json(await session(req).webhook({ type: 'webhookDelete', endpointId: endpointOf(req) }));
  });
  router.post(`${base}/:endpointId/secret`, async (req, res) => {
    res.json(await session(req).webhook({ type: 'webhookRotate', endpointId: endpointOf(req) }));
  });
  router.get(`${base}/:endpointId/deliveries`, async (req, res) => {
    const endpointId = endpointOf(req);
    const query = parseInput(WebhookDeliveriesQuery, req.query);
    res.json(await session(req).webhook({ type: 'webhookDeliveries', endpointId, query }));
  });
  router.post(`${base}/:endpointId/replay`, async (req, res) => {
    const endpointId = endpointOf(req);
    const { deliveryId } = parseInput(WebhookReplayBody, req.body ?? {});
    res.json(
      await session(req).webhook({
        type: 'webhookReplay',
        endpointId,
        ...(deliveryId !== undefined ? { deliveryId } : {}),
      }),
    );
  });
  return router;
};
