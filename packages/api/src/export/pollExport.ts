import {
  countVotes,
  type Poll,
  type PollExportDocument,
  type PollExportFile,
  type PollExportFormat,
} from '@pollmasters/shared';
import { toCsv } from './csv.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** One poll's results as a document: per option counts, per voter selections and names. */
export const pollExportDocument = (poll: Poll): PollExportDocument => ({
  poll: {
    id: poll.id,
    chatId: poll.chatId,
    creator: poll.creator,
    question: poll.question,
    selectableCount: poll.selectableCount,
    createdAt: iso(poll.createdAt),
    version: poll.version,
  },
  options: countVotes(poll),
  voters: poll.voters.map((v) => {
    const chosen = new Set(v.selected);
    return {
      voter: v.voter,
      name: v.name ?? null,
      selected: poll.options.filter((o) => chosen.has(o.hash)).map((o) => o.name),
      votedAt: iso(v.timestampMs),
    };
  }),
  unknownOptionVotes: poll.unknownOptionVotes,
});

/**
 * The CSV table: a header (`voter,name,voted_at,<option>...`), one row per voter with 1 or
 * 0 per option, and a last `TOTAL` row with the counts. A UTF-8 byte order mark leads, so
 * that spreadsheets read names with accents right.
 */
const csvOf = (doc: PollExportDocument): string => {
  const header = ['voter', 'name', 'voted_at', ...doc.options.map((o) => o.name)];
  const voters = doc.voters.map((v) => [
    v.voter,
    v.name ?? '',
    v.votedAt,
    ...doc.options.map((o) => (v.selected.includes(o.name) ? 1 : 0)),
  ]);
  const total = ['TOTAL', '', '', ...doc.options.map((o) => o.count)];
  return `\uFEFF${toCsv([header, ...voters, total])}`;
};

/**
 * One poll's results as a downloadable file, CSV or JSON. The one builder behind both the
 * HTTP download (`GET /polls/:id/export.csv`) and the tRPC query `polls.export`.
 */
export const buildPollExport = (poll: Poll, format: PollExportFormat): PollExportFile => {
  const doc = pollExportDocument(poll);
  const base = `poll-${poll.id.replace(/[^\w-]/g, '_')}`;
  return format === 'csv'
    ? { filename: `${base}.csv`, contentType: 'text/csv; charset=utf-8', body: csvOf(doc) }
    : {
        filename: `${base}.json`,
        contentType: 'application/json; charset=utf-8',
        body: `${JSON.stringify(doc, null, 2)}\n`,
      };
};
