import type { Poll, PollCreator } from '@pollmasters/shared';
import { createSandbox, type SandboxOptionsInput, type World } from '@pollmasters/worker/sandbox';
import { normalizeExpected, type SandboxProbe, votersByName } from './sandbox.js';
import type { TestServer } from './server.js';
import { eventually } from './wait.js';

/** The world a sandbox with these options makes: the same options give the same world. */
export const worldOf = (options: SandboxOptionsInput): World => {
  const sandbox = createSandbox({
    ...options,
    channelName: `world-${process.pid}-${Math.random()}`,
  });
  sandbox.close();
  return sandbox.world;
};

/**
 * Waits until the network has cast and delivered everything for poll `pollId` and the server
 * counts it exactly as the ledger says; returns the poll and its creator as the ledger names
 * them. On a timeout the error shows the last difference.
 */
export const countedAsLedger = (
  server: Pick<TestServer, 'session'>,
  probe: SandboxProbe,
  pollId: string,
  timeoutMs = 15_000,
): Promise<{ poll: Poll; creator: PollCreator | undefined }> =>
  eventually(
    `poll ${pollId} counted as the ledger says`,
    async () => {
      const ledger = await probe.ledger();
      const poll = server.session.getPoll(pollId);
      if (!poll) throw new Error('the server does not have the poll');
      if (ledger.pending[pollId] !== 0) throw new Error(`pending: ${ledger.pending[pollId]}`);
      const counted = JSON.stringify(votersByName(poll));
      const expected = JSON.stringify(normalizeExpected(poll, ledger.polls[pollId] ?? {}));
      if (counted !== expected) throw new Error(`counted ${counted}, ledger ${expected}`);
      return { poll, creator: ledger.creators[pollId] };
    },
    timeoutMs,
    50,
  );
