import type { Poll } from '@pollmasters/shared';
import { describe, expect, it } from 'vitest';
import { pollUpdateOf } from '../src/session/readModel.js';
import { PollEventLog } from '../src/trpc/eventLog.js';
import { type IdentifiedEvent, pollUpdates } from '../src/trpc/pollUpdates.js';
import { poll as pollFixture } from './clusterFixtures.js';
import { take } from './takeEvents.js';

// A cluster node that missed events of a session's stream logs the owner's states of the polls
// concerned at one position (`PollEventLog.resynced`): its subscribers get them as a resync.

const poll = (id: string, version: number): Poll => ({ ...pollFixture(id), version });

const polls = { listPolls: () => [], getPoll: () => undefined };

/** A log positioned in a stream at seq 4, holding `pollSent` a, b, c at 5, 6, 7. */
const positioned = (capacity?: number) => {
  const log = new PollEventLog({ epoch: 'e1', ...(capacity ? { capacity } : {}) });
  log.restartAt({ epoch: 'e1', seq: 4 });
  ['a', 'b', 'c'].forEach((id, i) => {
    log.pollSent(poll(id, 0), { epoch: 'e1', seq: 5 + i });
  });
  return log;
};

/** `n` events of a subscription as [id, type, poll id and version], then it is ended. */
const read = async (gen: AsyncGenerator<IdentifiedEvent>, n: number) => {
  const events = await take(gen, n);
  await gen.return(undefined);
  return events.map(({ id, event }): [string, string, string?] =>
    event.type === 'synced'
      ? [id, event.type]
      : [id, event.type, 'poll' in event ? `${event.poll.id}v${event.poll.version}` : undefined],
  );
};

describe('a resync at a stream position', () => {
  it('reaches live subscribers as pollStates then synced, a filtered one for its poll only', async () => {
    const log = positioned();
    const all = pollUpdates({ log, polls, lastEventId: 'e1-7' });
    const onB = pollUpdates({ log, polls, lastEventId: 'e1-7', pollId: 'b' });
    const onC = pollUpdates({ log, polls, lastEventId: 'e1-7', pollId: 'c' });
    const allRead = read(all, 3);
    const bRead = read(onB, 2);
    expect(log.resynced([poll('a', 3), poll('b', 2)], { epoch: 'e1', seq: 12 })).toHaveLength(2);
    log.pollSent(poll('c2', 0), { epoch: 'e1', seq: 13 });
    expect(await allRead).toEqual([
      ['e1-12-r0', 'pollState', 'av3'],
      ['e1-12-r1', 'pollState', 'bv2'],
      ['e1-12', 'synced'],
    ]);
    expect(await bRead).toEqual([
      ['e1-12-r1', 'pollState', 'bv2'],
      ['e1-12', 'synced'],
    ]);
    // c was not concerned: its subscriber gets nothing of the resync, only what comes after.
    log.pollsUpdated([pollUpdateOf(poll('c', 1))], { epoch: 'e1', seq: 14 });
    expect(await read(onC, 1)).toEqual([['e1-14', 'pollState', 'cv1']]);
  });

  it('comes again to an id before it, not to its own id nor after', async () => {
    const log = positioned();
    log.resynced([poll('a', 3)], { epoch: 'e1', seq: 12 });
    log.pollSent(poll('d', 0), { epoch: 'e1', seq: 13 });
    expect(await read(pollUpdates({ log, polls, lastEventId: 'e1-6' }), 4)).toEqual([
      ['e1-7', 'pollSent', 'cv0'],
      ['e1-12-r0', 'pollState', 'av3'],
      ['e1-12', 'synced'],
      ['e1-13', 'pollSent', 'dv0'],
    ]);
    expect(await read(pollUpdates({ log, polls, lastEventId: 'e1-12' }), 1)).toEqual([
      ['e1-13', 'pollSent', 'dv0'],
    ]);
    // An id given out inside the resync is not resumable: a whole resync (every poll, synced).
    const cut = await read(pollUpdates({ log, polls, lastEventId: 'e1-12-r0' }), 1);
    expect(cut).toEqual([['e1-13', 'synced']]);
  });

  it('is refused at or before the head, and dropped whole: an id before it then resyncs', () => {
    const log = positioned(2);
    expect(log.resynced([poll('a', 1)], { epoch: 'e1', seq: 7 })).toEqual([]);
    expect(log.resynced([poll('a', 1)], { epoch: 'e2', seq: 9 })).toEqual([]);
    log.resynced([poll('a', 3), poll('b', 2)], { epoch: 'e1', seq: 12 });
    log.pollSent(poll('d', 0), { epoch: 'e1', seq: 13 });
    // Capacity 2: the pollSents went, and the resync's first poll too.
    expect(log.after({ epoch: 'e1', seq: 11 })).toBeNull();
    expect(log.after({ epoch: 'e1', seq: 12 })?.map((e) => e.seq)).toEqual([13]);
  });
});
