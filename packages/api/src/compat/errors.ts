import type { FailureResponse, PollMastersError } from '@pollmasters/shared';
import { domainErrorOf, httpStatusByCode } from '../httpErrors.js';

export interface CompatFailure {
  status: number;
  body: FailureResponse;
  /** The domain error behind it, for the log. */
  cause: PollMastersError;
}

/**
 * Anything thrown, as the compat failure shape `{success:false, message, error?}` and its
 * HTTP status. A client error's `message` says what is wrong; a server-side failure gets
 * `action` (e.g. "Failed to send poll.") as `message` and the cause as `error`.
 */
export const toCompatFailure = (err: unknown, action = 'The request failed.'): CompatFailure => {
  const cause = domainErrorOf(err);
  const status = httpStatusByCode[cause.code];
  const body: FailureResponse =
    status < 500
      ? { success: false, message: cause.message }
      : { success: false, message: action, error: cause.message };
  return { status, body, cause };
};
