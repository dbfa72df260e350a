import type { IdentifiedEvent } from '../src/trpc/pollUpdates.js';

/** Reads `n` events from a `pollUpdates` generator (fewer if it ends first), and keeps it open. */
export const take = async (gen: AsyncGenerator<IdentifiedEvent>, n: number) => {
  const out: IdentifiedEvent[] = [];
  while (out.length < n) {
    const next = await gen.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
};
