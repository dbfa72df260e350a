import { randomBytes } from 'node:crypto';
import { errors, type WebhookEndpoint, type WebhookEndpointWithSecret } from '@pollmasters/shared';
import type { CommandOf, CommandResult } from '@pollmasters/shared/node';
import { noDeliveries, type StoredEndpoint, type WebhookStore } from '../store/webhookStore.js';
import type { AddressPolicy } from './addressPolicy.js';
import type { WebhookDispatcher } from './dispatcher.js';
import type { WebhookOutbox } from './outbox.js';

/** A signing secret as Standard Webhooks has them: `whsec_` + base64 of 32 random bytes. */
const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;
const newEndpointId = (): string => `ep_${randomBytes(12).toString('base64url')}`;

/** Endpoints a session may have. */
export const MAX_ENDPOINTS = 20;

/**
 * The `webhook*` commands of a session: its endpoints (the URL checked by the address policy
 * before anything is stored; a refused input changes nothing) and their deliveries. The secret
 * is answered by create and rotate only.
 */
export class WebhookEndpoints {
  constructor(
    private readonly sessionId: string,
    private readonly store: WebhookStore,
    private readonly outbox: WebhookOutbox,
    private readonly dispatcher: WebhookDispatcher,
    private readonly policy: AddressPolicy,
  ) {}

  async create({ body }: CommandOf<'webhookCreate'>): Promise<WebhookEndpointWithSecret> {
    if (this.outbox.list().length >= MAX_ENDPOINTS) {
      throw errors.conflict(`a session has at most ${MAX_ENDPOINTS} webhook endpoints`);
    }
    await this.policy.target(body.url);
    const now = Date.now();
    const endpoint: StoredEndpoint = {
      id: newEndpointId(),
      url: body.url,
      events: body.events,
      paused: body.paused,
      secret: newSecret(),
      createdAt: now,
      updatedAt: now,
    };
    await this.store.insertEndpoint(endpoint);
    this.outbox.put(endpoint);
    return { ...this.shown(endpoint), secret: endpoint.secret };
  }

  /** The endpoints, each with its deliveries counted by status (one grouped read for all). */
  async list(): Promise<CommandResult<'webhookList'>> {
    const counts = await this.store.deliveryCounts();
    return {
      endpoints: this.outbox.list().map((e) => ({
        ...this.shown(e),
        deliveries: counts.get(e.id) ?? noDeliveries(),
      })),
    };
  }

  get({ endpointId }: CommandOf<'webhookGet'>): WebhookEndpoint {
    return this.shown(this.require(endpointId));
  }

  async update({ endpointId, body }: CommandOf<'webhookUpdate'>): Promise<WebhookEndpoint> {
    const current = this.require(endpointId);
    if (body.url !== undefined) await this.policy.target(body.url);
    // Looked up again: it may have been deleted while the URL was checked.
    const endpoint: StoredEndpoint = {
      ...this.require(endpointId),
      ...(body.url !== undefined ? { url: body.url } : {}),
      ...(body.events !== undefined ? { events: body.events } : {}),
      ...(body.paused !== undefined ? { paused: body.paused } : {}),
      updatedAt: Math.max(Date.now(), current.updatedAt),
    };
    await this.store.updateEndpoint(endpoint);
    this.outbox.put(endpoint);
    this.dispatcher.reconsider(endpointId);
    return this.shown(endpoint);
  }

  async delete({
    endpointId,
  }: CommandOf<'webhookDelete'>): Promise<CommandResult<'webhookDelete'>> {
    this.require(endpointId);
    await this.store.deleteEndpoint(endpointId);
    this.outbox.remove(endpointId);
    this.dispatcher.reconsider(endpointId);
    return {};
  }

  /** A new secret, used from the next attempt on (retries of older events too). */
  async rotate({ endpointId }: CommandOf<'webhookRotate'>): Promise<WebhookEndpointWithSecret> {
    const endpoint = { ...this.require(endpointId), secret: newSecret(), updatedAt: Date.now() };
    await this.store.updateEndpoint(endpoint);
    this.outbox.put(endpoint);
    return { ...this.shown(endpoint), secret: endpoint.secret };
  }

  async deliveries({ endpointId, query }: CommandOf<'webhookDeliveries'>) {
    this.require(endpointId);
    return { deliveries: await this.store.deliveries(endpointId, query) };
  }

  /** Failed deliveries back in the queue (same `webhook-id`), one or all of the endpoint's. */
  async replay({
    endpointId,
    deliveryId,
  }: CommandOf<'webhookReplay'>): Promise<CommandResult<'webhookReplay'>> {
    this.require(endpointId);
    const requeued = await this.store.requeue(endpointId, deliveryId, Date.now());
    if (deliveryId !== undefined && requeued === 0) {
      throw errors.notFound(`failed delivery ${deliveryId} of endpoint ${endpointId}`);
    }
    this.dispatcher.reconsider(endpointId);
    return { requeued };
  }

  private require(id: string): StoredEndpoint {
    const endpoint = this.outbox.get(id);
    if (!endpoint) throw errors.notFound(`webhook endpoint ${id}`);
    return endpoint;
  }

  private shown({ secret: _secret, ...endpoint }: StoredEndpoint): WebhookEndpoint {
    return { ...endpoint, sessionId: this.sessionId };
  }
}
