import { PollMastersError } from '@pollmasters/shared';
import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { toTRPCError } from '../src/trpc/errors.js';
import { PollEventLog } from '../src/trpc/eventLog.js';
import { appRouter } from '../src/trpc/router.js';
import { CHATS, FakeSession } from './fakeSession.js';
import { routerContext } from './routerContext.js';

const setup = (options: { delayMs?: number } = {}) => {
  const session = new FakeSession({ status: 'ready', qr: null, user: { id: '1@s.whatsapp.net' } });
  const log = new PollEventLog();
  session.on('pollSent', (p) => log.pollSent(p));
  const ctx = routerContext(session, { log, ...options });
  return { session, ctx, caller: appRouter.createCaller(ctx) };
};

/** Server-side callers get `tracked()` envelopes: `[id, data, symbol]`. */
const unwrap = <T>(envelope: unknown): { id: string; data: T } => {
  const [id, data] = envelope as [string, T];
  return { id, data };
};

const send = { question: 'Lunch?', options: ['Pizza', 'Sushi'], selectableCount: 1 };

describe('tRPC router', () => {
  it('answers queries from the session', async () => {
    const { caller } = setup();
    expect(await caller.session.status()).toMatchObject({ status: 'ready' });
    expect(await caller.chats.list()).toEqual(CHATS);
    expect(await caller.session.requestPairingCode({ phoneNumber: '+49 170 1234567' })).toEqual({
      code: 'CODE-491701234567',
    });
  });

  it('gives NOT_FOUND for an unknown poll, with the domain error as cause', async () => {
    const { caller } = setup();
    const err = await caller.polls.get({ id: 'nope' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect(err).toMatchObject({ code: 'NOT_FOUND', message: 'poll nope not found' });
    expect((err as TRPCError).cause).toBeInstanceOf(PollMastersError);
  });

  it('sends to many chats one at a time, paced, with a result per chat', async () => {
    const { caller, session } = setup({ delayMs: 20 });
    session.failFor.add('2@g.us');
    const chatIds = ['1@g.us', '2@g.us', '3@s.whatsapp.net'];
    const result = await caller.polls.send({ ...send, chatIds, sendId: 's1' });
    expect(result).toMatchObject({ sendId: 's1', sent: 2, failed: 1 });
    expect(result.results).toEqual([
      { chatId: '1@g.us', ok: true, pollId: '3EB0POLL1' },
      {
        chatId: '2@g.us',
        ok: false,
        error: { code: 'SEND_FAILED', message: 'WhatsApp refused the message' },
      },
      { chatId: '3@s.whatsapp.net', ok: true, pollId: '3EB0POLL2' },
    ]);
    expect(session.maxInFlight).toBe(1);
    const gaps = session.sent.slice(1).map((s, i) => s.at - session.sent[i]!.at);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(19);
  });

  it('reports progress to a subscriber that comes before or after the send', async () => {
    const { caller } = setup();
    const early = await caller.polls.sendProgress({ sendId: 'p1' });
    const chatIds = ['1@g.us', '2@g.us'];
    const done = caller.polls.send({ ...send, chatIds, sendId: 'p1' });
    const seen: string[] = [];
    for await (const e of early) seen.push(unwrap<{ type: string }>(e).data.type);
    expect(seen).toEqual(['result', 'result', 'done']);
    await done;
    const late: { id: string; type: string }[] = [];
    for await (const e of await caller.polls.sendProgress({ sendId: 'p1', lastEventId: 'p1.0' })) {
      const { id, data } = unwrap<{ type: string }>(e);
      late.push({ id, type: data.type });
    }
    expect(late).toEqual([
      { id: 'p1.1', type: 'result' },
      { id: 'p1.2', type: 'done' },
    ]);
    await expect(caller.polls.send({ ...send, chatIds, sendId: 'p1' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('rejects bad input with a readable BAD_REQUEST', async () => {
    const { caller } = setup();
    await expect(
      caller.polls.send({ ...send, chatIds: ['1@g.us', '1@g.us'] }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const tooMany = Array.from({ length: 51 }, (_, i) => `${i}@g.us`);
    await expect(caller.polls.send({ ...send, chatIds: tooMany })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(caller.polls.send({ ...send, chatIds: [] })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it("casts the account's vote through the session; its refusals keep their codes", async () => {
    const { caller, session } = setup();
    const poll = await session.sendPoll({ ...send, chatId: '1@g.us' });
    const result = await caller.polls.vote({ pollId: poll.id, options: ['Sushi'] });
    expect(result.poll.voters.map((v) => v.voter)).toEqual([result.vote.voter]);
    expect(session.ownVotes).toEqual([{ pollId: poll.id, options: ['Sushi'] }]);
    await expect(caller.polls.vote({ pollId: poll.id, options: ['Tea'] })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(caller.polls.vote({ pollId: 'nope', options: [] })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    // Refused by the schema: the session is not asked.
    await expect(
      caller.polls.vote({ pollId: poll.id, options: Array(13).fill('Sushi') }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(session.ownVotes).toHaveLength(3);
  });

  it('refuses to send while WhatsApp is not ready (PRECONDITION_FAILED)', async () => {
    const { caller, session } = setup();
    session.sessionState = { status: 'qr_pending', qr: 'x', user: null };
    await expect(caller.polls.send({ ...send, chatIds: ['1@g.us'] })).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
    });
  });

  it('streams the session state, then its changes, resumable by id', async () => {
    const { caller, ctx } = setup();
    const stream = (await caller.session.events({}))[Symbol.asyncIterator]();
    const first = unwrap((await stream.next()).value);
    expect(first).toMatchObject({ data: { state: { status: 'ready' } } });
    ctx.sessionFeed.update({ status: 'disconnected', qr: null, user: null });
    const second = unwrap((await stream.next()).value);
    expect(second).toMatchObject({ data: { state: { status: 'disconnected' } } });
    await stream.return?.();
    // Resuming with the newest id: nothing until the next change.
    const again = await caller.session.events({ lastEventId: second.id });
    const iterator = again[Symbol.asyncIterator]();
    const pending = iterator.next();
    ctx.sessionFeed.update({ status: 'ready', qr: null, user: null });
    expect(unwrap((await pending).value)).toMatchObject({ data: { state: { status: 'ready' } } });
    await iterator.return?.();
  });
});

describe('toTRPCError', () => {
  it.each([
    ['BAD_INPUT', 'BAD_REQUEST'],
    ['NOT_READY', 'PRECONDITION_FAILED'],
    ['NOT_FOUND', 'NOT_FOUND'],
    ['SEND_FAILED', 'BAD_GATEWAY'],
    ['TIMEOUT', 'TIMEOUT'],
    ['WORKER_GONE', 'SERVICE_UNAVAILABLE'],
    ['LIMIT_EXCEEDED', 'TOO_MANY_REQUESTS'],
    ['QUOTA_EXCEEDED', 'TOO_MANY_REQUESTS'],
    ['UNAUTHORIZED', 'UNAUTHORIZED'],
    ['CONFLICT', 'CONFLICT'],
    ['INTERNAL', 'INTERNAL_SERVER_ERROR'],
  ] as const)('maps %s to %s, keeping message and cause', (code, trpcCode) => {
    const original = new PollMastersError(code, `went wrong: ${code}`);
    const mapped = toTRPCError(original);
    expect(mapped).toMatchObject({ code: trpcCode, message: `went wrong: ${code}` });
    expect(mapped.cause).toBe(original);
  });

  it('wraps unknown throws as INTERNAL with the original kept', () => {
    const boom = new Error('boom');
    const mapped = toTRPCError(boom);
    expect(mapped.code).toBe('INTERNAL_SERVER_ERROR');
    expect((mapped.cause as PollMastersError).cause).toBe(boom);
  });
});
