import { z } from 'zod';
import { Limits } from './limits.js';

/**
 * The one domain error of PollMasters. Its `code` says what went wrong in terms a caller
 * can act on; conversion to HTTP statuses, tRPC codes or the compat `{success:false}`
 * shape happens only at the edges (packages/api).
 */
export const ErrorCode = {
  /** The input failed validation; nothing was changed. */
  BAD_INPUT: 'BAD_INPUT',
  /** WhatsApp is not connected (yet): log in first. */
  NOT_READY: 'NOT_READY',
  /** The poll, chat or session asked for does not exist. */
  NOT_FOUND: 'NOT_FOUND',
  /** WhatsApp refused or failed to deliver the message. */
  SEND_FAILED: 'SEND_FAILED',
  /** A call across the worker channel took longer than its timeout. */
  TIMEOUT: 'TIMEOUT',
  /** The worker thread exited or restarted while the call was in flight. */
  WORKER_GONE: 'WORKER_GONE',
  /** A message on the worker channel did not match the protocol. */
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  /** A limit of size or pace was exceeded (a body too large, a subscriber that falls behind). */
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  /** A quota is used up: the server holds as many as it may (sessions, subscriptions). */
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  /** Missing or wrong API key. */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** The key is right but may not touch this: a session's key and another session. */
  FORBIDDEN: 'FORBIDDEN',
  /** The operation is not possible in the current state (e.g. already logged in). */
  CONFLICT: 'CONFLICT',
  /** Anything else: a bug or an unexpected failure. */
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A domain error as plain data, e.g. as the API reports it inside a result. */
export const ErrorInfo = z.object({ code: z.enum(ErrorCode), message: z.string() });
export type ErrorInfo = z.infer<typeof ErrorInfo>;

/** The body of every failure of the JSON HTTP API under `/api`. */
export const ApiErrorResponse = z.object({ error: ErrorInfo });
export type ApiErrorResponse = z.infer<typeof ApiErrorResponse>;

/** An error as it crosses a thread boundary: plain data, rebuilt on the other side. */
export const ErrorPayload = ErrorInfo.extend({ name: z.string() });
export type ErrorPayload = z.infer<typeof ErrorPayload>;

export class PollMastersError extends Error {
  override readonly name = 'PollMastersError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** Wraps anything thrown; a PollMastersError is kept as it is, others keep the original as `cause`. */
  static from(err: unknown, code: ErrorCode = ErrorCode.INTERNAL): PollMastersError {
    if (err instanceof PollMastersError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new PollMastersError(code, message, { cause: err });
  }

  static fromPayload(payload: ErrorPayload): PollMastersError {
    return new PollMastersError(payload.code, payload.message);
  }

  toPayload(): ErrorPayload {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** Error constructors, in one place. */
export const errors = {
  badInput: (message: string) => new PollMastersError(ErrorCode.BAD_INPUT, message),
  notReady: (status: string) =>
    new PollMastersError(
      ErrorCode.NOT_READY,
      `WhatsApp is not connected (status: ${status}); log in first`,
    ),
  notFound: (what: string) => new PollMastersError(ErrorCode.NOT_FOUND, `${what} not found`),
  sendFailed: (message: string, cause?: unknown) =>
    new PollMastersError(ErrorCode.SEND_FAILED, message, { cause }),
  timeout: (what: string, ms: number) =>
    new PollMastersError(ErrorCode.TIMEOUT, `${what} timed out after ${ms} ms`),
  workerGone: (why: string) => new PollMastersError(ErrorCode.WORKER_GONE, why),
  invalidMessage: (why: string) => new PollMastersError(ErrorCode.INVALID_MESSAGE, why),
  limit: (message: string) => new PollMastersError(ErrorCode.LIMIT_EXCEEDED, message),
  quota: (message: string) => new PollMastersError(ErrorCode.QUOTA_EXCEEDED, message),
  /** The one refusal of an oversized body, on the compat API and tRPC alike. */
  bodyTooLarge: () =>
    new PollMastersError(
      ErrorCode.LIMIT_EXCEEDED,
      `request body too large: at most ${Limits.bodyMaxBytes} bytes`,
    ),
  conflict: (message: string) => new PollMastersError(ErrorCode.CONFLICT, message),
  forbidden: (message: string) => new PollMastersError(ErrorCode.FORBIDDEN, message),
} as const;
