import type { SessionService } from '@pollmasters/api';
import { expect } from 'vitest';
import { normalizeExpected, type SandboxProbe, votersByName } from './sandbox.js';
import { until } from './wait.js';

/**
 * Waits until the session's results equal what its sandbox network cast on these polls, then
 * asserts them poll by poll (a clear diff when they never do) and returns the polls.
 */
export const expectCountedExactly = async (
  session: SessionService,
  probe: SandboxProbe,
  ids: string[],
  timeoutMs = 15_000,
) => {
  const expected = await probe.settled(ids, timeoutMs);
  const matches = (id: string) => {
    const p = session.getPoll(id);
    return (
      !!p &&
      JSON.stringify(votersByName(p)) === JSON.stringify(normalizeExpected(p, expected[id] ?? {}))
    );
  };
  await until(
    session,
    'pollsUpdated',
    () => ids.every(matches) || undefined,
    'results to match the ledger',
    timeoutMs,
  ).catch(() => {});
  const polls = ids.map((id) => session.getPoll(id)!);
  for (const poll of polls)
    expect(votersByName(poll)).toEqual(normalizeExpected(poll, expected[poll.id] ?? {}));
  return polls;
};
