import type { SessionService } from '@pollmasters/api';
import type { Poll, PollCreator } from '@pollmasters/shared';
import { normalizeExpected, type SandboxProbe, votersByName } from './sandbox.js';
import { eventually } from './wait.js';

/** A poll counted as the ledger says, and its creator as the ledger names it. */
export interface Counted {
  poll: Poll;
  creator: PollCreator | undefined;
}

/**
 * Waits until the session's sandbox network has cast and delivered everything for these polls
 * and the session counts each exactly as the ledger says (the ledger is read afresh each time);
 * returns them in the order asked. On a timeout the error shows the last difference.
 */
export const countedAsLedger = <const Ids extends readonly string[]>(
  session: Pick<SessionService, 'getPoll'>,
  probe: SandboxProbe,
  ids: Ids,
  timeoutMs = 15_000,
): Promise<{ -readonly [K in keyof Ids]: Counted }> =>
  eventually(
    `polls ${ids.join(', ')} counted as the ledger says`,
    async () => {
      const ledger = await probe.ledger();
      return ids.map((id) => {
        const poll = session.getPoll(id);
        if (!poll) throw new Error(`the server does not have poll ${id}`);
        if (ledger.pending[id] !== 0) throw new Error(`${id} pending: ${ledger.pending[id]}`);
        const counted = JSON.stringify(votersByName(poll));
        const expected = JSON.stringify(normalizeExpected(poll, ledger.polls[id] ?? {}));
        if (counted !== expected) throw new Error(`${id} counted ${counted}, ledger ${expected}`);
        return { poll, creator: ledger.creators[id] };
      }) as { -readonly [K in keyof Ids]: Counted };
    },
    timeoutMs,
    50,
  );

/** What `GET /sandbox/ledger` answers (packages/api/src/sandboxRoutes.ts). */
export interface LedgerAnswer {
  /** Poll id -> voter -> the option names of their final selection. */
  polls: Record<string, Record<string, string[]>>;
  /** Poll id -> votes the network has yet to deliver. */
  pending: Record<string, number>;
}

/** A sandbox server's ledger over HTTP (`sessionId`: another session's network than `default`). */
export const fetchLedger = async (
  baseUrl: string,
  sessionId?: string,
  init?: RequestInit,
): Promise<LedgerAnswer> => {
  const query = sessionId === undefined ? '' : `?session=${encodeURIComponent(sessionId)}`;
  const res = await fetch(`${baseUrl}/sandbox/ledger${query}`, init);
  if (res.status !== 200) throw new Error(`GET /sandbox/ledger${query}: ${res.status}`);
  return (await res.json()) as LedgerAnswer;
};
