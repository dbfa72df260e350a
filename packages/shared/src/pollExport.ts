import { z } from 'zod';
import { OptionCount, Poll, PollId } from './poll.js';

/** The formats one poll's results can be exported in. */
export const PollExportFormat = z.enum(['csv', 'json']);
export type PollExportFormat = z.infer<typeof PollExportFormat>;

/** Input of the tRPC query `polls.export`. */
export const PollExportInput = z.object({
  id: PollId,
  format: PollExportFormat,
});
export type PollExportInput = z.infer<typeof PollExportInput>;

/** One poll's results as a file: what `GET /polls/:id/export.{csv,json}` downloads. */
export const PollExportFile = z.object({
  /** E.g. `poll-3EB0...csv`. */
  filename: z.string(),
  /** E.g. `text/csv; charset=utf-8`. */
  contentType: z.string(),
  body: z.string(),
});
export type PollExportFile = z.infer<typeof PollExportFile>;

/** The JSON export of one poll's results (the body of the `json` format). */
export const PollExportDocument = z.object({
  poll: Poll.pick({
    id: true,
    chatId: true,
    creator: true,
    question: true,
    selectableCount: true,
    version: true,
  })
    /** ISO 8601. */
    .extend({ createdAt: z.string() }),
  /** Votes per option, in the poll's order. */
  options: z.array(OptionCount),
  /** Everyone with a current selection, ordered by voter id. */
  voters: z.array(
    z.object({
      voter: z.string(),
      /** Display name where known, else null. */
      name: z.string().nullable(),
      /** Names of the selected options, in the poll's order. */
      selected: z.array(z.string()),
      /** ISO 8601 time of the vote that set this selection. */
      votedAt: z.string(),
    }),
  ),
  /** Selected hashes, over all accepted votes, that matched no option. */
  unknownOptionVotes: z.number().int(),
});
export type PollExportDocument = z.infer<typeof PollExportDocument>;
