import {
  allPollDataJsonParts,
  errors,
  type GetChatsResponse,
  Limits,
  type Logger,
  type LogoutResponse,
  type Poll,
  parseInput,
  SendPollRequest,
  type SendPollResponse,
  selectableCountOf,
} from '@pollmasters/shared';
import express, { type Request, type Response, Router } from 'express';
import type { CompatSession } from './context.js';
import { toCompatFailure } from './errors.js';
import { streamJson } from './streamJson.js';
import { statusResponse } from './views.js';

/** Sends a failure in the compat shape; server-side failures are logged. */
export const sendFailure = (res: Response, logger: Logger, err: unknown, action?: string): void => {
  const failure = toCompatFailure(err, action);
  const log = { err: failure.cause, status: failure.status, code: failure.cause.code };
  if (failure.status >= 500) logger.error(log, action ?? 'compat request failed');
  else logger.debug(log, 'compat request rejected');
  res.status(failure.status).json(failure.body);
};

/** The parts of `GET /get-all-poll-data`'s answer, made one at a time as they are written. */
function* answer(polls: readonly Poll[]): Generator<string> {
  yield '{"success":true,"polls":';
  yield* allPollDataJsonParts(polls);
  yield '}';
}

/**
 * The compat HTTP routes of `docs/contract/backend-api-endpoints.txt`. JSON bodies are parsed
 * here only (tRPC needs raw bodies), with the shared size limit.
 */
export const compatRouter = (session: CompatSession, logger: Logger): Router => {
  const router = Router();
  const json = express.json({ limit: Limits.bodyMaxBytes });

  /** Answers with the handler's result, or with the compat failure shape for what it throws. */
  const reply =
    <T>(action: string, handler: (req: Request) => T | Promise<T>) =>
    async (req: Request, res: Response): Promise<void> => {
      try {
        res.json(await handler(req));
      } catch (err) {
        sendFailure(res, logger, err, action);
      }
    };

  const requireReady = () => {
    const { status } = session.sessionState;
    if (status !== 'ready') throw errors.notReady(status);
  };

  router.get(
    '/status',
    reply('Failed to get the status.', () => statusResponse(session.sessionState)),
  );

  router.post(
    '/send-poll',
    json,
    reply('Failed to send poll.', async (req): Promise<SendPollResponse> => {
      if (req.body === undefined) {
        throw errors.badInput('send a JSON body with Content-Type: application/json');
      }
      const request = parseInput(SendPollRequest, req.body);
      requireReady();
      const poll = await session.sendPoll({
        chatId: request.chatId,
        question: request.question,
        options: request.options,
        selectableCount: selectableCountOf(request.allowMultipleAnswers),
      });
      return { success: true, message: 'Poll sent successfully!', pollMsgId: poll.id };
    }),
  );

  router.get(
    '/get-chats',
    reply('Failed to fetch chats.', async (): Promise<GetChatsResponse> => {
      requireReady();
      return { success: true, chats: await session.listChats() };
    }),
  );

  router.post(
    '/logout',
    json,
    reply('Failed to log out.', async (): Promise<LogoutResponse> => {
      await session.logout();
      return {
        success: true,
        message: 'Logged out and local session cleared. Scan the new QR code to log in again.',
      };
    }),
  );

  // `{"success":true,"polls":{...}}`, streamed a poll at a time (the same bytes as the object's
  // JSON): with many polls of many voters the whole answer would take tens of MB at once.
  router.get('/get-all-poll-data', async (_req, res) => {
    try {
      await streamJson(res, answer(session.listPolls()));
    } catch (err) {
      if (!res.headersSent) sendFailure(res, logger, err, 'Failed to get poll data.');
      else res.destroy(err as Error);
    }
  });

  return router;
};
