import { errors, parseInput, VotePollInput, VoteSelection } from '@pollmasters/shared';
import { Router } from 'express';
import type { SessionView } from '../session/sessionService.js';

/** What the poll routes need of a session. */
export type RestPollSession = SessionView<'votePoll'>;

/**
 * `POST /polls/:id/vote` with `{"options": [...]}`: the account's own vote on a tracked poll
 * (options by text or hash; an empty list withdraws). Answers `{vote, poll}` (`VotePollResult`).
 */
export const pollRoutes = (session: RestPollSession): Router => {
  const router = Router();
  router.post('/polls/:id/vote', async (req, res) => {
    if (req.body === undefined) {
      throw errors.badInput('send a JSON body with Content-Type: application/json');
    }
    const { options } = parseInput(VoteSelection, req.body);
    res.json(await session.votePoll(parseInput(VotePollInput, { pollId: req.params.id, options })));
  });
  return router;
};
