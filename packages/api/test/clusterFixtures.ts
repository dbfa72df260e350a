import type { Logger, Poll, VoteChange } from '@pollmasters/shared';
import { optionHash } from '@pollmasters/shared/node';
import type { Received } from '../../../test/helpers/pollUpdates.js';
import { SessionService } from '../src/session/sessionService.js';
import { PollEventLog } from '../src/trpc/eventLog.js';

/** Fixtures of the cluster's unit tests (cluster-*.test.ts). */
export const OPTIONS = ['Yes', 'No', 'Maybe'].map((name) => ({ name, hash: optionHash(name) }));

export const poll = (id: string): Poll => ({
  id,
  chatId: '120363000000000001@g.us',
  creator: { jid: '15550000001@s.whatsapp.net', fromMe: true },
  question: 'Coming?',
  options: OPTIONS,
  selectableCount: 1,
  createdAt: 1_700_000_000_000,
  voters: [],
  unknownOptionVotes: 0,
  version: 0,
});

/** `n` votes on a poll by voters `from`, `from + 1`, ...; every other one with a name. */
export const votes = (pollId: string, from: number, n: number): VoteChange[] =>
  Array.from({ length: n }, (_, i) => ({
    pollId,
    voter: `1555${String(from + i).padStart(7, '0')}@s.whatsapp.net`,
    ...(i % 2 ? { name: `Voter ${from + i}` } : {}),
    selected: [OPTIONS[(from + i) % 3]!.hash],
    unknownHashes: 0,
    timestampMs: 1_700_000_000_000 + from + i,
    version: from + i,
  }));

/** Waits until `check` holds, for at most `ms`. */
export const until = async (what: string, check: () => boolean, ms = 5_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/**
 * What a subscriber resuming after `id` is sent from a log's entries (as `pollUpdates` does):
 * each with its id; null when the log cannot resume from `id`.
 */
export const eventsAfter = (log: PollEventLog, id: string): Received[] | null => {
  const entries = log.after(PollEventLog.parseId(id)!);
  return entries ? entries.map((e) => ({ id: log.idOf(e.seq), data: e.event })) : null;
};

/** A session without a worker: what the stream and the bus give it is all it has. */
export const workerlessSession = (logger: Logger, sessionId: string) =>
  new SessionService({
    sessionId,
    open: { dataDir: '/nonexistent' },
    placeOn: () => {
      throw new Error('no worker in this test');
    },
    logger,
  });
