import { createPollMastersClient, type PollMastersClient } from '@pollmasters/client';
import { WebhookEndpoint, WebhookEndpointWithSecret } from '@pollmasters/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';
import { clientReady, eventually } from './helpers/wait.js';

// Issue #19: a session's webhook endpoints over tRPC and REST; bad input and forbidden
// addresses are refused and change nothing; the secret is shown on create and rotate only.

let server: TestServer | undefined;
const clients: PollMastersClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server?.destroy();
  server = undefined;
});

const start = async (webhookAllow?: string) => {
  server = await startTestServer({ config: webhookAllow ? { webhookAllow } : {} });
  const client = createPollMastersClient({ url: server.url });
  clients.push(client);
  await clientReady(client);
  const rest = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server!.url}/api/sessions/default/webhooks${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { client, rest };
};

const trpcCode = async (call: Promise<unknown>): Promise<string | undefined> => {
  try {
    await call;
  } catch (err) {
    return (err as { data?: { code?: string } }).data?.code;
  }
  return 'resolved';
};

describe('webhook endpoints', () => {
  it('create, list, get, update, rotate and delete over tRPC and REST; the secret shown only on create and rotate', async () => {
    const { client, rest } = await start('127.0.0.1');
    const created = WebhookEndpointWithSecret.parse(
      await client.webhooks.create.mutate({
        url: 'http://127.0.0.1:9/hook',
        events: ['poll.vote'],
      }),
    );
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created).toMatchObject({ sessionId: 'default', paused: false, events: ['poll.vote'] });

    // REST sees the same endpoint, without its secret.
    const listed = await rest('GET', '');
    expect(listed.status).toBe(200);
    const endpoints = listed.body.endpoints as Record<string, unknown>[];
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0]).not.toHaveProperty('secret');
    expect(WebhookEndpoint.parse(endpoints[0])).toEqual(WebhookEndpoint.parse(created));

    // Created over REST: 201 with the secret; all event types by default.
    const second = await rest('POST', '', { url: 'http://127.0.0.1:10/other' });
    expect(second.status).toBe(201);
    expect(second.body.secret).toMatch(/^whsec_/);
    expect(second.body.events).toEqual([
      'poll.sent',
      'poll.vote',
      'poll.vote.rejected',
      'session.status',
    ]);
    const secondId = second.body.id as string;

    const got = await client.webhooks.get.query({ endpointId: created.id });
    expect(got).not.toHaveProperty('secret');
    const patched = await rest('PATCH', `/${created.id}`, { paused: true, events: ['poll.sent'] });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ paused: true, events: ['poll.sent'] });
    expect(patched.body).not.toHaveProperty('secret');
    const updated = await client.webhooks.update.mutate({
      endpointId: created.id,
      url: 'http://127.0.0.1:11/moved',
    });
    expect(updated).toMatchObject({ url: 'http://127.0.0.1:11/moved', paused: true });

    const rotated = await client.webhooks.rotateSecret.mutate({ endpointId: created.id });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    const rotatedRest = await rest('POST', `/${secondId}/secret`);
    expect(rotatedRest.body.secret).not.toBe(second.body.secret);

    expect(await client.webhooks.delete.mutate({ endpointId: created.id })).toEqual({});
    expect((await rest('DELETE', `/${secondId}`)).status).toBe(200);
    expect((await client.webhooks.list.query({})).endpoints).toEqual([]);
    expect((await rest('GET', `/${secondId}`)).status).toBe(404);
    expect(await trpcCode(client.webhooks.get.query({ endpointId: created.id }))).toBe('NOT_FOUND');
  });

  it('bad input is BAD_REQUEST / 400 and changes nothing', async () => {
    const { client, rest } = await start('127.0.0.1');
    const kept = await client.webhooks.create.mutate({ url: 'http://127.0.0.1:9/hook' });
    const before = await client.webhooks.list.query({});

    for (const url of [
      'ftp://127.0.0.1/hook',
      'file:///etc/passwd',
      'http://user:pw@127.0.0.1/hook',
      'not a url',
    ]) {
      expect(await trpcCode(client.webhooks.create.mutate({ url })), url).toBe('BAD_REQUEST');
      expect((await rest('POST', '', { url })).status, url).toBe(400);
    }
    expect(
      await trpcCode(
        client.webhooks.create.mutate({
          url: 'http://127.0.0.1:9/x',
          events: ['poll.nope' as 'poll.vote'],
        }),
      ),
    ).toBe('BAD_REQUEST');
    expect((await rest('POST', '', { url: 'http://127.0.0.1:9/x', events: [] })).status).toBe(400);
    expect((await rest('POST', '', { url: 'http://127.0.0.1:9/x', secret: 'mine' })).status).toBe(
      400,
    );
    // An update that names nothing, or a bad URL, leaves the endpoint as it was.
    expect((await rest('PATCH', `/${kept.id}`, {})).status).toBe(400);
    expect(await trpcCode(client.webhooks.update.mutate({ endpointId: kept.id }))).toBe(
      'BAD_REQUEST',
    );
    expect(
      await trpcCode(client.webhooks.update.mutate({ endpointId: kept.id, url: 'gopher://x/' })),
    ).toBe('BAD_REQUEST');
    expect((await rest('PATCH', `/${kept.id}`, { url: 'http://10.1.2.3/' })).status).toBe(400);
    expect((await rest('GET', '/not-an-id')).status).toBe(400);
    expect((await rest('POST', `/${kept.id}/replay`, { deliveryId: 'x' })).status).toBe(400);
    expect((await rest('GET', `/${kept.id}/deliveries?limit=0`)).status).toBe(400);
    // A body not sent as JSON is refused with what to send, not read as empty.
    const asText = await fetch(`${server!.url}/api/sessions/default/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ url: 'http://127.0.0.1:9/text' }),
    });
    expect(asText.status).toBe(400);
    expect(await asText.json()).toEqual({
      error: {
        code: 'BAD_INPUT',
        message: 'send a JSON body with Content-Type: application/json',
      },
    });

    expect(await client.webhooks.list.query({})).toEqual(before);
  });

  it('refuses loopback, private and link-local targets unless POLLMASTERS_WEBHOOK_ALLOW names them, after DNS', async () => {
    const { client } = await start();
    for (const url of [
      'http://127.0.0.1:8080/hook',
      // A name that resolves to loopback is refused as its address is.
      'http://localhost:8080/hook',
      'http://[::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://10.0.0.5/hook',
      'http://192.168.1.1/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://0.0.0.0/hook',
      'http://2130706433/hook',
    ]) {
      expect(await trpcCode(client.webhooks.create.mutate({ url })), url).toBe('BAD_REQUEST');
    }
    expect((await client.webhooks.list.query({})).endpoints).toEqual([]);
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server?.destroy();

    // Allowed by CIDR (the address) or by host name.
    const allowed = await start('127.0.0.0/8,::1,localhost');
    for (const url of ['http://127.0.0.1:8080/hook', 'http://localhost:8080/hook']) {
      await expect(allowed.client.webhooks.create.mutate({ url }), url).resolves.toMatchObject({
        url,
      });
    }
    // Only what the list names: other private ranges stay refused.
    expect(
      await trpcCode(allowed.client.webhooks.create.mutate({ url: 'http://10.0.0.5/hook' })),
    ).toBe('BAD_REQUEST');
  });

  it("a session's own key manages that session's webhooks only (FORBIDDEN / 403 elsewhere)", async () => {
    const KEY = 'server-key-0123456789';
    server = await startTestServer({ config: { apiKey: KEY, webhookAllow: '127.0.0.1' } });
    const admin = createPollMastersClient({ url: server.url, apiKey: KEY });
    clients.push(admin);
    await clientReady(admin);
    const created = await admin.sessions.create.mutate({
      id: 'shop',
      start: true,
      scopedKey: true,
    });
    const shop = createPollMastersClient({ url: server.url, apiKey: created.apiKey! });
    clients.push(shop);
    await eventually(
      'shop ready',
      async () => (await shop.session.status.query({ sessionId: 'shop' })).status === 'ready',
    );

    const mine = await shop.webhooks.create.mutate({
      sessionId: 'shop',
      url: 'http://127.0.0.1:9/',
    });
    expect(mine.sessionId).toBe('shop');
    expect(await trpcCode(shop.webhooks.list.query({ sessionId: 'default' }))).toBe('FORBIDDEN');
    expect(await trpcCode(shop.webhooks.create.mutate({ url: 'http://127.0.0.1:9/' }))).toBe(
      'FORBIDDEN',
    );
    const res = await fetch(`${server.url}/api/sessions/default/webhooks`, {
      headers: { 'x-api-key': created.apiKey! },
    });
    expect(res.status).toBe(403);
    // Nothing was made on default; shop's endpoint is shop's alone.
    expect((await admin.webhooks.list.query({})).endpoints).toEqual([]);
    expect((await admin.webhooks.list.query({ sessionId: 'shop' })).endpoints).toHaveLength(1);
  });
});
