import { DEFAULT_SESSION, errors } from '@pollmasters/shared';
import { assertMaySee } from '../access.js';
import type { Context, TrpcSession } from './context.js';
import { toTRPCError } from './errors.js';

/**
 * What a procedure acts on: the session its input names, else `default` (so that clients
 * from before sessions keep working), with its event log, state feed and sender.
 * FORBIDDEN for a session the caller's key is not for; NOT_FOUND for an unknown session.
 * Thrown as TRPCErrors: a subscription's generator throws past the procedure's mapping.
 */
export const streamsOf = (ctx: Context, sessionId: string = DEFAULT_SESSION) => {
  try {
    assertMaySee(ctx.principal, sessionId);
    if (ctx.sessions) return ctx.sessions.streamsOf(sessionId);
    if (sessionId !== DEFAULT_SESSION) throw errors.notFound(`session ${sessionId}`);
    return ctx;
  } catch (err) {
    throw toTRPCError(err);
  }
};

export const sessionOf = (ctx: Context, sessionId?: string): TrpcSession =>
  streamsOf(ctx, sessionId).session;
