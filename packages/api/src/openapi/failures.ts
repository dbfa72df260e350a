import {
  ApiErrorResponse,
  type ErrorCode,
  ErrorInfo,
  FailureResponse,
  Limits,
} from '@pollmasters/shared';
import { z } from 'zod';
import type { ResponseDoc } from './area.js';

/**
 * The failure answers, in the two shapes of ../httpErrors.ts: the compat API's
 * `{success: false, message, error?}` (its routes, health, metrics, export) and `/api`'s
 * `{error: {code, message}}`.
 */

export const compatFailure = (description: string): ResponseDoc => ({
  description,
  schema: FailureResponse,
});

/** `code`: the one error code this answer carries, where only one can. */
export const apiFailure = (description: string, code?: ErrorCode): ResponseDoc => ({
  description,
  schema: code
    ? ApiErrorResponse.extend({ error: ErrorInfo.extend({ code: z.literal(code) }) })
    : ApiErrorResponse,
});

const unauthorized = 'No API key, or a wrong one (only when the server has a key).';
const forbiddenCompat =
  "A session's own key other than `default`'s: this route serves the session `default`.";
const serverSide =
  'A failure on the server side: 502 WhatsApp refused or failed the send, 503 the session is stopped or its worker restarted during the call, 504 it did not answer in time, 500 anything else.';
const tooLarge = `The body is over ${Limits.bodyMaxBytes} bytes; it was not read.`;

/** What every compat-shaped route may answer besides its own. */
export const compatFailures = {
  '401': compatFailure(unauthorized),
  '403': compatFailure(forbiddenCompat),
  default: compatFailure(`${serverSide} \`message\` says what failed, \`error\` why.`),
} satisfies Record<string, ResponseDoc>;

/** And those with a JSON body. */
export const compatBodyFailures = {
  ...compatFailures,
  '413': compatFailure(tooLarge),
} satisfies Record<string, ResponseDoc>;

/** What every route under `/api` may answer besides its own. */
export const apiFailures = {
  '401': apiFailure(unauthorized),
  default: apiFailure(serverSide),
} satisfies Record<string, ResponseDoc>;

export const apiBodyFailures = {
  ...apiFailures,
  '413': apiFailure(tooLarge),
} satisfies Record<string, ResponseDoc>;

/** A session's own key naming another session (or an act that needs the server's key). */
export const apiForbidden = apiFailure(
  "A session's own key acting on another session, or on what needs the server's key.",
);
