import {
  DEFAULT_SESSION,
  errors,
  PairingCodeInput,
  PollExportInput,
  PollIdInput,
  PollListInput,
  PollUpdatesInput,
  SendPollsInput,
  SendProgressInput,
  SessionEventsInput,
  SessionInput,
  VotePollInput,
} from '@pollmasters/shared';
import { tracked } from '@trpc/server';
import { buildPollExport } from '../export/pollExport.js';
import { toTRPCError } from './errors.js';
import { QueueOverflowError } from './eventQueue.js';
import { holdSlot } from './holdSlot.js';
import { procedure, router } from './init.js';
import { pollUpdates } from './pollUpdates.js';
import { sessionOf, streamsOf } from './sessionOf.js';
import { sessionsRouter } from './sessionsRouter.js';
import { webhooksRouter } from './webhooksRouter.js';

/** Bytes that may wait on a subscriber's WebSocket before it is asked to resume later. */
const defaultMaxBufferedBytes = 8 * 1024 * 1024;

/** An input that may name its session (`sessionId`, default `default`); none (or null) is fine. */
const inSession = SessionInput.nullish();

const sessionRouter = router({
  /** Status, QR (while `qr_pending`) and user. */
  status: procedure
    .input(inSession)
    .query(({ ctx, input }) => sessionOf(ctx, input?.sessionId).sessionState),
  /** Logs WhatsApp out; a fresh QR follows. */
  logout: procedure.input(inSession).mutation(async ({ ctx, input }) => {
    await sessionOf(ctx, input?.sessionId).logout();
    return { ok: true as const };
  }),
  /** A pairing code to type on the phone instead of scanning the QR. */
  requestPairingCode: procedure
    .input(PairingCodeInput.extend(SessionInput.partial().shape))
    .mutation(async ({ ctx, input }) => ({
      code: await sessionOf(ctx, input.sessionId).requestPairingCode(input.phoneNumber),
    })),
  /** The session's state now, then every change (status, QR, user). */
  events: procedure.input(SessionEventsInput).subscription(async function* ({
    ctx,
    input,
    signal,
  }) {
    const feed = streamsOf(ctx, input.sessionId).sessionFeed;
    const release = holdSlot(ctx);
    const changes: { id: string; event: (typeof feed.latest)['event'] }[] = [];
    let wake: (() => void) | null = null;
    const onChange = (change: (typeof changes)[number]) => {
      // State is a whole: only the newest one matters to a subscriber that is behind.
      changes.length = 0;
      changes.push(change);
      wake?.();
    };
    feed.on('change', onChange);
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      let lastId = input.lastEventId ?? null;
      const first = feed.latest;
      if (first.id !== lastId) {
        lastId = first.id;
        yield tracked(first.id, first.event);
      }
      while (!signal?.aborted) {
        const next = changes.shift();
        if (!next) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = null;
          continue;
        }
        if (next.id === lastId) continue;
        lastId = next.id;
        yield tracked(next.id, next.event);
      }
    } finally {
      feed.off('change', onChange);
      signal?.removeEventListener('abort', onAbort);
      release();
    }
  }),
});

const chatsRouter = router({
  /** Groups and direct chats of the account. */
  list: procedure
    .input(inSession)
    .query(({ ctx, input }) => sessionOf(ctx, input?.sessionId).listChats()),
});

const pollsRouter = router({
  /**
   * Polls with their results, newest first, a page at a time: `{polls, nextCursor}`; pass
   * `cursor: nextCursor` for the next page until it is null. A page holds at most `limit` polls
   * (default 20, at most 100) and ends early once it holds 10,000 voters, so that no answer
   * is the whole account at once (the client's `listAllPolls` walks the pages).
   */
  list: procedure
    .input(PollListInput)
    .query(({ ctx, input }) =>
      sessionOf(ctx, input?.sessionId).pollPage({ cursor: input?.cursor, limit: input?.limit }),
    ),
  /** One poll with its results. */
  get: procedure.input(PollIdInput.extend(SessionInput.partial().shape)).query(({ ctx, input }) => {
    const poll = sessionOf(ctx, input.sessionId).getPoll(input.id);
    if (!poll) throw errors.notFound(`poll ${input.id}`);
    return poll;
  }),
  /**
   * One poll's results as a CSV or JSON file (`{filename, contentType, body}`): the same
   * bytes as `GET /polls/:id/export.csv` / `.json`.
   */
  export: procedure
    .input(PollExportInput.extend(SessionInput.partial().shape))
    .query(({ ctx, input }) => {
      const poll = sessionOf(ctx, input.sessionId).getPoll(input.id);
      if (!poll) throw errors.notFound(`poll ${input.id}`);
      return buildPollExport(poll, input.format);
    }),
  /**
   * Sends a poll to one chat or many, paced by the server (`sendDelayMs` between sends).
   * Resolves when every chat was tried, with a result per chat; follow it meanwhile with
   * `polls.sendProgress`.
   */
  send: procedure
    .input(SendPollsInput)
    .mutation(({ ctx, input: { sessionId, ...send } }) =>
      streamsOf(ctx, sessionId).sender.send(send),
    ),
  /**
   * Casts the account's own vote on a tracked poll: `options` name the chosen options by text
   * or hash (mixed), an empty list withdraws the vote. Sent encrypted as a poll update and
   * counted once as the account's vote; answers with the vote and the poll's new state.
   * BAD_REQUEST (an option not in the poll, given twice, or more than `selectableCount`
   * allows) and NOT_FOUND (no such poll) send nothing.
   */
  vote: procedure
    .input(VotePollInput.extend(SessionInput.partial().shape))
    .mutation(({ ctx, input: { sessionId, ...vote } }) => sessionOf(ctx, sessionId).votePoll(vote)),
  /** The progress of a send by its `sendId` (subscribe before or after starting it). */
  sendProgress: procedure.input(SendProgressInput).subscription(async function* ({
    ctx,
    input,
    signal,
  }) {
    const { sender } = streamsOf(ctx, input.sessionId);
    const release = holdSlot(ctx);
    try {
      for await (const p of sender.progress(input.sendId, input.lastEventId, signal)) {
        yield tracked(p.id, p.event);
      }
    } catch (err) {
      throw toTRPCError(err);
    } finally {
      release();
    }
  }),
  /**
   * Poll events (`pollSent`, `votes`, `pollState`, `synced`) with resumable ids; pass
   * `pollId` for one poll. tRPC clients resume by `lastEventId` themselves after a reconnect;
   * a subscription ended because its client reads too slowly (TOO_MANY_REQUESTS) is not a
   * reconnect: the client subscribes again with its last id (logged at info here).
   */
  updates: procedure.input(PollUpdatesInput).subscription(async function* ({ ctx, input, signal }) {
    const bufferedAmount = ctx.bufferedAmount;
    const streams = streamsOf(ctx, input.sessionId);
    const release = holdSlot(ctx);
    try {
      for await (const { id, event } of pollUpdates({
        log: streams.log,
        polls: streams.session,
        pollId: input.pollId,
        lastEventId: input.lastEventId,
        snapshot: input.snapshot,
        signal,
        backpressure: bufferedAmount
          ? {
              bufferedAmount,
              maxBytes: ctx.config.subscriberMaxBufferedBytes ?? defaultMaxBufferedBytes,
            }
          : undefined,
      })) {
        yield tracked(id, event);
      }
    } catch (err) {
      if (err instanceof QueueOverflowError) {
        const sessionId = input.sessionId ?? DEFAULT_SESSION;
        const bufferedBytes = bufferedAmount?.() ?? null;
        ctx.logger.info(
          { sessionId, pollId: input.pollId, bufferedBytes },
          'polls.updates ended: its client reads too slowly',
        );
      }
      throw toTRPCError(err);
    } finally {
      release();
    }
  }),
});

export const appRouter = router({
  sessions: sessionsRouter,
  session: sessionRouter,
  chats: chatsRouter,
  polls: pollsRouter,
  webhooks: webhooksRouter,
});

/** The API's type, for `@pollmasters/client` (import it with `import type`). */
export type AppRouter = typeof appRouter;
