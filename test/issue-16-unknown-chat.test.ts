import { createPollMastersClient, type PollMastersClient } from '@pollmasters/client';
import { FailureResponse } from '@pollmasters/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturingLogger } from './helpers/logCapture.js';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sessionStatus } from './helpers/wait.js';

/** Well-formed, and no chat of the sandbox's account. */
const UNKNOWN_GROUP = '120363999999999999@g.us';
const UNKNOWN_PERSON = '15550009999@s.whatsapp.net';
const notFound = (chatId: string) =>
  `chat ${chatId} not found: WhatsApp has no such chat for this account (item-not-found)`;

let server: TestServer;
let url: string;
let client: PollMastersClient;
let probe: SandboxProbe;
/** Every line the server logged, at debug and above. */
const { logger, lines: logged } = capturingLogger();

beforeAll(async () => {
  server = await startTestServer({ sandbox: { autoVote: false }, logger });
  url = `http://127.0.0.1:${server.port}`;
  client = createPollMastersClient({ url });
  probe = new SandboxProbe(server.sandboxChannel);
  await sessionStatus(server.session);
});
afterAll(async () => {
  probe.close();
  await client.close();
  await server.destroy();
});

describe('a poll to a chat that is not one of the account’s (issue #16)', () => {
  it('answers the compat API 404 with a clear message, logs no error and stores nothing', async () => {
    for (const chatId of [UNKNOWN_GROUP, UNKNOWN_PERSON]) {
      const before = logged.length;
      const res = await fetch(`${url}/send-poll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          chatId,
          question: 'Q?',
          options: ['a', 'b'],
          allowMultipleAnswers: false,
        }),
      });
      expect(res.status, chatId).toBe(404);
      expect(FailureResponse.parse(await res.json())).toEqual({
        success: false,
        message: notFound(chatId),
      });
      const lines = logged.slice(before);
      expect(lines.filter((l) => l.level >= 50)).toEqual([]);
      expect(lines).toContainEqual(
        expect.objectContaining({ level: 20, msg: 'compat request rejected', status: 404 }),
      );
    }
    expect(server.session.listPolls()).toEqual([]);
    expect(Object.keys((await probe.ledger()).polls)).toEqual([]);
  });

  it('answers tRPC polls.send with NOT_FOUND for that chat, and sends to the others', async () => {
    const [chat] = await client.chats.list.query();
    const before = logged.length;
    const result = await client.polls.send.mutate({
      chatIds: [UNKNOWN_GROUP, chat!.id],
      question: 'Q?',
      options: ['a', 'b'],
    });
    expect(result.results[0]).toEqual({
      chatId: UNKNOWN_GROUP,
      ok: false,
      error: { code: 'NOT_FOUND', message: notFound(UNKNOWN_GROUP) },
    });
    expect(result.results[1]).toMatchObject({ chatId: chat!.id, ok: true });
    expect(result).toMatchObject({ sent: 1, failed: 1 });
    expect(logged.slice(before).filter((l) => l.level >= 50)).toEqual([]);
  });
});
