import { createPollMastersClient, type PollMastersClient } from '@pollmasters/client';
import { FailureResponse, Limits } from '@pollmasters/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sessionStatus } from './helpers/wait.js';

let server: TestServer;
let url: string;
let client: PollMastersClient;
let probe: SandboxProbe;
let chatId: string;

beforeAll(async () => {
  server = await startTestServer({ sandbox: { autoVote: false } });
  url = `http://127.0.0.1:${server.port}`;
  client = createPollMastersClient({ url });
  probe = new SandboxProbe(server.sandboxChannel);
  await sessionStatus(server.session);
  chatId = (await server.session.listChats())[0]?.id ?? '';
});
afterAll(async () => {
  probe.close();
  await client.close();
  await server.destroy();
});

/** Nothing was stored and nothing reached (simulated) WhatsApp. */
const nothingSent = async () => {
  expect(server.session.listPolls()).toEqual([]);
  expect(Object.keys((await probe.ledger()).polls)).toEqual([]);
};

const sendPoll = async (body: unknown, raw?: string) => {
  const res = await fetch(`${url}/send-poll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: raw ?? JSON.stringify(body),
  });
  return { status: res.status, body: FailureResponse.parse(await res.json()) };
};

const valid = { question: 'Q?', options: ['a', 'b'], allowMultipleAnswers: false };

describe('input limits, each with a clear error and nothing stored', () => {
  it('rejects a body over the size limit with 413', async () => {
    const padding = 'x'.repeat(Limits.bodyMaxBytes);
    const res = await sendPoll(undefined, JSON.stringify({ ...valid, chatId, padding }));
    expect(res.status).toBe(413);
    expect(res.body.message).toBe(`request body too large: at most ${Limits.bodyMaxBytes} bytes`);
    await nothingSent();
  });

  it('rejects questions and options over their lengths, and too many options', async () => {
    const cases: [unknown, RegExp][] = [
      [
        { ...valid, chatId, question: 'q'.repeat(Limits.questionMaxLength + 1) },
        /question must be at most 255 characters/,
      ],
      [
        { ...valid, chatId, options: ['a', 'o'.repeat(Limits.optionMaxLength + 1)] },
        /options must be at most 100 characters/,
      ],
      [
        {
          ...valid,
          chatId,
          options: Array.from({ length: Limits.maxOptions + 1 }, (_, i) => `o${i}`),
        },
        /give 1 to 12 options/,
      ],
      [{ ...valid, chatId, question: '   ' }, /question must not be empty/],
    ];
    for (const [body, message] of cases) {
      const res = await sendPoll(body);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(message);
      await expect(
        client.polls.send.mutate({
          chatIds: [chatId],
          ...(body as { question: string; options: string[] }),
        }),
      ).rejects.toMatchObject({
        message: expect.stringMatching(message),
        data: { httpStatus: 400 },
      });
    }
    // At the limits exactly, the same poll goes through: the limits are not off by one.
    const atLimit = {
      chatId,
      question: 'q'.repeat(Limits.questionMaxLength),
      options: Array.from({ length: Limits.maxOptions }, (_, i) =>
        `${i}`.padEnd(Limits.optionMaxLength, 'o'),
      ),
      allowMultipleAnswers: true,
    };
    await nothingSent();
    const ok = await fetch(`${url}/send-poll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(atLimit),
    });
    expect(ok.status).toBe(200);
    expect(server.session.listPolls()).toHaveLength(1);
  });

  it('rejects more chats per multi-send than the limit', async () => {
    const before = server.session.listPolls().length;
    const chatIds = Array.from(
      { length: Limits.maxChatsPerSend + 1 },
      (_, i) => `1555000${i}@s.whatsapp.net`,
    );
    await expect(
      client.polls.send.mutate({ chatIds, question: 'Many?', options: ['a', 'b'] }),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/give at most 50 chats per send/),
      data: { code: 'BAD_REQUEST' },
    });
    expect(server.session.listPolls()).toHaveLength(before);
  });

  it('caps concurrent subscriptions per WebSocket connection', async () => {
    const limit = 20;
    const subs: { unsubscribe(): void }[] = [];
    const started = Array.from(
      { length: limit },
      () =>
        new Promise<void>((resolve, reject) => {
          subs.push(
            client.polls.updates.subscribe(
              { snapshot: false },
              { onData: () => resolve(), onError: reject },
            ),
          );
        }),
    );
    await Promise.all(started);
    const refused = await new Promise<{ code?: string; message: string }>((resolve) => {
      const sub = client.session.events.subscribe(
        {},
        {
          onData: () => resolve({ message: 'accepted' }),
          onError: (err) => {
            sub.unsubscribe();
            resolve({
              code: (err.data as { code?: string } | undefined)?.code,
              message: err.message,
            });
          },
        },
      );
    });
    expect(refused).toEqual({
      code: 'TOO_MANY_REQUESTS',
      message: `at most ${limit} subscriptions per connection: stop one before starting another`,
    });
    // A slot given back can be taken again.
    subs.pop()?.unsubscribe();
    let attempts = 0;
    const again = await new Promise<string>((resolve, reject) => {
      const tryOnce = () => {
        if (++attempts > 20) return reject(new Error('the released slot was never free again'));
        const sub = client.session.events.subscribe(
          {},
          {
            onData: ({ data }) => {
              sub.unsubscribe();
              resolve(data.state.status);
            },
            // The slot is released when the server has ended the stopped subscription.
            onError: () => setImmediate(tryOnce),
          },
        );
      };
      tryOnce();
    });
    expect(again).toBe('ready');
    for (const sub of subs) sub.unsubscribe();
  });

  it('caps concurrent subscriptions over HTTP (server-sent events) for the whole server', async () => {
    const limit = 100;
    const stream = async () => {
      const controller = new AbortController();
      const input = encodeURIComponent(JSON.stringify({ json: {} }));
      const res = await fetch(`${url}/trpc/session.events?input=${input}`, {
        signal: controller.signal,
        headers: { accept: 'text/event-stream' },
      });
      const reader = res.body!.getReader();
      let text = '';
      // The stream's first data event: the session state, or the refusal.
      while (!/\ndata: /.test(`\n${text}`) && !/event: serialized-error/.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
      }
      return {
        text,
        close: () => {
          controller.abort();
          return reader.cancel().catch(() => {});
        },
      };
    };
    const open = [];
    for (let i = 0; i < limit; i++) open.push(await stream());
    expect(open.every((s) => s.text.includes('"status":"ready"'))).toBe(true);
    const refused = await stream();
    expect(refused.text).toContain(
      `at most ${limit} subscriptions over HTTP at once: stop one before starting another`,
    );
    await refused.close();
    // One stream ends: its slot is free again.
    await open.pop()?.close();
    let again = await stream();
    for (let i = 0; i < 50 && !again.text.includes('"status":"ready"'); i++) {
      await again.close();
      await new Promise((r) => setTimeout(r, 20));
      again = await stream();
    }
    expect(again.text).toContain('"status":"ready"');
    await again.close();
    await Promise.all(open.map((s) => s.close()));
  });
});
