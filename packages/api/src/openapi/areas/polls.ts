import {
  OwnVote,
  Poll,
  PollExportDocument,
  PollId,
  SessionId,
  VotePollResult,
  VoteSelection,
} from '@pollmasters/shared';
import { z } from 'zod';
import type { ApiArea, ParameterDoc } from '../area.js';
import {
  apiBodyFailures,
  apiFailure,
  apiForbidden,
  compatFailure,
  compatFailures,
} from '../failures.js';

const pollId: ParameterDoc = {
  name: 'id',
  in: 'path',
  description: "The poll's id (WhatsApp's message id of the poll).",
  schema: PollId,
};

const unknownPoll = compatFailure('No such poll in the session `default`.');

/** Voting (../../rest/pollRoutes.ts) and one poll's results as a file (../../export/). */
export const pollsArea: ApiArea = {
  tag: 'polls',
  description:
    "Vote as the account, and download one poll's results. Listing polls and sending them: the compat routes (`GET /get-all-poll-data`, `POST /send-poll`) or tRPC.",
  schemas: { Poll, OwnVote, VoteSelection, VotePollResult, PollExportDocument },
  routes: [
    {
      method: 'post',
      path: '/api/polls/{id}/vote',
      operationId: 'votePoll',
      summary: 'Vote on a poll as the account',
      description:
        "Each option by its exact text or its hash (SHA-256 hex of the text); an empty list withdraws the account's vote, a new vote replaces the previous one. Counted once, as the account's own vote.",
      parameters: [
        pollId,
        {
          name: 'session',
          in: 'query',
          description: 'The session that votes; `default` without it.',
          schema: SessionId,
        },
      ],
      body: { schema: VoteSelection },
      responses: {
        '200': {
          description: "The vote as stored, and the poll's new state.",
          schema: VotePollResult,
        },
        '400': apiFailure(
          'An option not in the poll, one given twice, more than the poll allows, or a malformed body; nothing was sent.',
        ),
        '403': apiForbidden,
        '404': apiFailure('No such poll or session.'),
        '409': apiFailure('WhatsApp is not connected; nothing was sent.'),
        ...apiBodyFailures,
      },
    },
    {
      method: 'get',
      path: '/polls/{id}/export.csv',
      operationId: 'exportPollCsv',
      summary: "One poll's results as CSV",
      description:
        "A row per voter (`voter,name,voted_at`, then 1 or 0 per option) and a `TOTAL` row; UTF-8 with a byte order mark, formula-like cells prefixed with `'`. Session `default`.",
      parameters: [pollId],
      responses: {
        '200': {
          description: 'The CSV file (`Content-Disposition: attachment`).',
          schema: z.string(),
          contentType: 'text/csv',
        },
        '404': unknownPoll,
        ...compatFailures,
      },
    },
    {
      method: 'get',
      path: '/polls/{id}/export.json',
      operationId: 'exportPollJson',
      summary: "One poll's results as JSON",
      description:
        'The poll with its creator, per option counts, per voter selections. Session `default`.',
      parameters: [pollId],
      responses: {
        '200': {
          description: 'The JSON file (`Content-Disposition: attachment`).',
          schema: PollExportDocument,
        },
        '404': unknownPoll,
        ...compatFailures,
      },
    },
  ],
};
