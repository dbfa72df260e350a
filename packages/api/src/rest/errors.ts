import {
  type ApiErrorResponse,
  ErrorCode,
  type Logger,
  PollMastersError,
} from '@pollmasters/shared';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { domainErrorOf, httpStatusByCode } from '../httpErrors.js';

/**
 * Answers a failure as `{error: {code, message}}` with the HTTP status of its domain code
 * (`BAD_INPUT` 400, `NOT_FOUND` 404, `NOT_READY` 409, ...). Server-side failures are logged.
 */
export const sendApiFailure = (res: Response, logger: Logger, err: unknown): void => {
  const cause = domainErrorOf(err);
  const status = httpStatusByCode[cause.code];
  const log = { err: cause, status, code: cause.code };
  if (status >= 500) logger.error(log, 'API request failed');
  else logger.debug(log, 'API request rejected');
  const body: ApiErrorResponse = { error: { code: cause.code, message: cause.message } };
  res.status(status).json(body);
};

/** An unknown route under `/api`: a JSON 404, as every answer there is JSON. */
export const apiNotFound =
  (logger: Logger): RequestHandler =>
  (req, res) =>
    sendApiFailure(
      res,
      logger,
      new PollMastersError(ErrorCode.NOT_FOUND, `Not found: ${req.method} ${req.originalUrl}`),
    );

/** Anything a route under `/api` (or the API key check before it) failed with. */
export const apiErrorHandler =
  (logger: Logger): ErrorRequestHandler =>
  (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    sendApiFailure(res, logger, err);
  };
