import { type ErrorCode, type ErrorInfo, PollMastersError } from '@pollmasters/shared';
import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';

/** The tRPC code of each domain error code: the one place where they are paired. */
const trpcCodes = {
  BAD_INPUT: 'BAD_REQUEST',
  NOT_READY: 'PRECONDITION_FAILED',
  NOT_FOUND: 'NOT_FOUND',
  SEND_FAILED: 'BAD_GATEWAY',
  TIMEOUT: 'TIMEOUT',
  WORKER_GONE: 'SERVICE_UNAVAILABLE',
  INVALID_MESSAGE: 'INTERNAL_SERVER_ERROR',
  LIMIT_EXCEEDED: 'TOO_MANY_REQUESTS',
  QUOTA_EXCEEDED: 'TOO_MANY_REQUESTS',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  CONFLICT: 'CONFLICT',
  INTERNAL: 'INTERNAL_SERVER_ERROR',
} as const satisfies Record<ErrorCode, TRPC_ERROR_CODE_KEY>;

/**
 * Converts anything thrown behind a procedure to a `TRPCError`: a PollMastersError gets the
 * tRPC code of its domain code and its message, and stays the `cause`; a TRPCError is kept.
 */
export const toTRPCError = (err: unknown): TRPCError => {
  if (err instanceof TRPCError) {
    return err.cause instanceof PollMastersError ? toTRPCError(err.cause) : err;
  }
  const domain = PollMastersError.from(err);
  return new TRPCError({ code: trpcCodes[domain.code], message: domain.message, cause: domain });
};

/** The `{code, message}` of a failure, for results that report errors per item. */
export const toErrorInfo = (err: unknown): ErrorInfo => {
  const { code, message } = PollMastersError.from(err);
  return { code, message };
};
