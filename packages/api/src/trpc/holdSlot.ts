import type { Context } from './context.js';
import { toTRPCError } from './errors.js';

/**
 * Takes a subscription slot (./subscriptionSlots.ts: the WebSocket connection's own, or the
 * server's pool for HTTP streams) for a subscription's lifetime; returns its release.
 */
export const holdSlot = (ctx: Context): (() => void) => {
  try {
    return ctx.subscriptionSlots.acquire();
  } catch (err) {
    throw toTRPCError(err);
  }
};
