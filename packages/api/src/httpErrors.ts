import { type ErrorCode, errors, PollMastersError } from '@pollmasters/shared';

/**
 * The HTTP status of each domain error code: the one place where codes become statuses, for
 * every HTTP edge. `LIMIT_EXCEEDED` is 413 because the limit an HTTP client can hit is the
 * body size; a quota used up (`QUOTA_EXCEEDED`: as many sessions as the server may have) is 429.
 */
export const httpStatusByCode = {
  BAD_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  NOT_READY: 409,
  CONFLICT: 409,
  LIMIT_EXCEEDED: 413,
  QUOTA_EXCEEDED: 429,
  INTERNAL: 500,
  INVALID_MESSAGE: 500,
  SEND_FAILED: 502,
  WORKER_GONE: 503,
  TIMEOUT: 504,
} as const satisfies Record<ErrorCode, number>;

/** An error of Express' body parser (http-errors): `type` says what went wrong. */
interface HttpError {
  status: number;
  type?: string;
  message: string;
}

const isHttpError = (err: unknown): err is HttpError =>
  err instanceof Error && typeof (err as Partial<HttpError>).status === 'number';

/** Body-parser errors become domain errors, so that they go through the same mapping. */
const fromHttpError = (err: HttpError): PollMastersError => {
  if (err.type === 'entity.parse.failed') {
    return errors.badInput(`malformed JSON body: ${err.message}`);
  }
  if (err.type === 'entity.too.large' || err.status === 413) {
    return errors.bodyTooLarge();
  }
  if (err.status >= 400 && err.status < 500) return errors.badInput(err.message);
  return PollMastersError.from(err);
};

/** Anything thrown behind an HTTP route, as the domain error an edge answers with. */
export const domainErrorOf = (err: unknown): PollMastersError =>
  isHttpError(err) ? fromHttpError(err) : PollMastersError.from(err);
