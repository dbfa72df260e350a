import {
  DEFAULT_SESSION,
  type Principal,
  parseInput,
  SessionId,
  VotePollInput,
  VoteSelection,
} from '@pollmasters/shared';
import { Router } from 'express';
import { z } from 'zod';
import { principalOfRequest } from '../access.js';
import type { SessionView } from '../session/sessionService.js';
import { jsonBodyOf } from './body.js';

/** `?session=<id>`: the session a route acts on (`default` without it). */
const SessionQuery = z.object({ session: SessionId.default(DEFAULT_SESSION) });

/** What the poll routes need of a session. */
export type RestPollSession = SessionView<'votePoll'>;

/**
 * `POST /polls/:id/vote` with `{"options": [...]}`: the account's own vote on a tracked poll
 * (options by text or hash; an empty list withdraws), in the session `?session=` names.
 * Answers `{vote, poll}` (`VotePollResult`).
 */
export const pollRoutes = (
  sessionOf: (caller: Principal, id: string) => RestPollSession,
): Router => {
  const router = Router();
  router.post('/polls/:id/vote', async (req, res) => {
    const session = sessionOf(principalOfRequest(req), parseInput(SessionQuery, req.query).session);
    const { options } = jsonBodyOf(req, VoteSelection);
    res.json(await session.votePoll(parseInput(VotePollInput, { pollId: req.params.id, options })));
  });
  return router;
};
