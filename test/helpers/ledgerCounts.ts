import { listAllPolls, type PollMastersClient } from '@pollmasters/client';
import type { Poll } from '@pollmasters/shared';
import { expect } from 'vitest';
import { fetchLedger } from './ledger.js';
import { normalizeExpected, votersByName } from './sandbox.js';
import { eventually } from './wait.js';

/**
 * Waits until the sandbox's members have all voted on `pollIds` (its ledger has nothing
 * pending), then expects every one of those polls of `sessionId`, as the server lists it, to
 * count exactly the ledger's votes; and at least one vote in all.
 */
export const expectCountsOfLedger = async (
  url: string,
  client: PollMastersClient,
  sessionId: string,
  pollIds: readonly string[],
): Promise<void> => {
  const ledger = await eventually(
    `${sessionId}'s ledger settled`,
    async () => {
      const body = await fetchLedger(url, sessionId);
      return pollIds.every((p) => body.pending[p] === 0) ? body : undefined;
    },
    30_000,
  );
  const listed = async () =>
    (await listAllPolls(client, { sessionId })).filter((p) => pollIds.includes(p.id));
  const matches = (list: Poll[]) =>
    list.every(
      (p) =>
        JSON.stringify(votersByName(p)) ===
        JSON.stringify(normalizeExpected(p, ledger.polls[p.id] ?? {})),
    );
  const counted = await eventually(
    `${sessionId}'s counts`,
    async () => {
      const list = await listed();
      return matches(list) ? list : undefined;
    },
    15_000,
  ).catch(listed);
  for (const poll of counted) {
    expect(votersByName(poll)).toEqual(normalizeExpected(poll, ledger.polls[poll.id] ?? {}));
  }
  expect(counted.some((p) => p.voters.length > 0)).toBe(true);
};
