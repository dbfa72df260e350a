import {
  describeIssues,
  ErrorCode,
  errors,
  PollMastersError,
  transformer,
} from '@pollmasters/shared';
import { initTRPC } from '@trpc/server';
import type { Context } from './context.js';
import { toTRPCError } from './errors.js';

interface Issues {
  issues: { path: PropertyKey[]; message: string }[];
}
const hasIssues = (value: unknown): value is Issues =>
  typeof value === 'object' && value !== null && Array.isArray((value as Partial<Issues>).issues);

const t = initTRPC.context<Context>().create({
  transformer,
  // Never send stack traces to clients: tRPC would whenever NODE_ENV is not `production`.
  isDev: false,
  errorFormatter: ({ shape, error }) => {
    // Input errors read as one line (`options.1: options must not be empty`), not as JSON.
    const invalidInput = error.code === 'BAD_REQUEST' && hasIssues(error.cause);
    // tRPC's own body limit (`maxBodySize`) says only its code; this says the limit too.
    const tooLarge = error.code === 'PAYLOAD_TOO_LARGE' ? errors.bodyTooLarge() : null;
    const cause = error.cause instanceof PollMastersError ? error.cause : tooLarge;
    return {
      ...shape,
      message:
        invalidInput && hasIssues(error.cause)
          ? describeIssues(error.cause.issues)
          : (tooLarge?.message ?? shape.message),
      data: {
        ...shape.data,
        /** The PollMasters error code behind this error. */
        pollmastersCode: cause?.code ?? (invalidInput ? ErrorCode.BAD_INPUT : null),
      },
    };
  },
});

export const router = t.router;

/** The router's configuration (transformer, error formatter), for answers made outside it. */
export const rootConfig = t._config;

/**
 * Maps domain errors to tRPC codes (one mapping: ./errors.ts). The caller's key was checked
 * before tRPC saw the call (./httpGuard.ts, ./wsGate.ts).
 */
export const procedure = t.procedure.use(async ({ next }) => {
  const result = await next();
  if (!result.ok) throw toTRPCError(result.error);
  return result;
});
