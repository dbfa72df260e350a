import { errors, type Poll, PollExportFormat } from '@pollmasters/shared';
import type { Express } from 'express';
import { buildPollExport } from './pollExport.js';

/**
 * `GET /polls/:id/export.csv` and `GET /polls/:id/export.json`: one poll's results as a
 * download (`Content-Disposition: attachment`). An unknown poll goes to the server's one error
 * mapping (a JSON 404).
 */
export const mountExportRoutes = (
  app: Express,
  polls: { getPoll(id: string): Poll | undefined },
): void => {
  for (const format of PollExportFormat.options) {
    app.get(`/polls/:id/export.${format}`, (req, res, next) => {
      const poll = polls.getPoll(req.params.id);
      if (!poll) return next(errors.notFound(`poll ${req.params.id}`));
      const file = buildPollExport(poll, format);
      res
        .status(200)
        .type(file.contentType)
        .attachment(file.filename)
        .set('Cache-Control', 'no-store')
        .send(file.body);
    });
  }
};
