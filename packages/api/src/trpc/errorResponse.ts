import { type TRPCError, type TRPCErrorShape, transformTRPCResponse } from '@trpc/server';
import type { TRPCResponse, TRPCResponseMessage } from '@trpc/server/rpc';
// tRPC's adapters make their error shapes with it; @trpc/server is pinned to one version.
import { getErrorShape } from '@trpc/server/unstable-core-do-not-import';
import { rootConfig } from './init.js';

/**
 * The error shape a tRPC client gets for `error`, as the router's own error formatter
 * makes it (./init.ts): for refusals made before tRPC sees a request (./httpGuard.ts,
 * ./wsRefusal.ts), so that clients read them as they read any other tRPC error.
 */
export const errorShape = (error: TRPCError): TRPCErrorShape =>
  getErrorShape({
    config: rootConfig,
    error,
    type: 'unknown',
    path: undefined,
    input: undefined,
    ctx: undefined,
  });

/** A response (or a batch of them) as tRPC puts it on the wire: transformed, as JSON. */
export const encodeResponse = (
  response: TRPCResponse | TRPCResponse[] | TRPCResponseMessage,
): string => JSON.stringify(transformTRPCResponse(rootConfig, response));
