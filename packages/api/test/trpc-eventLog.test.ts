import { type Poll, transformer, type VoteChange } from '@pollmasters/shared';
import { optionHash } from '@pollmasters/shared/node';
import { describe, expect, it } from 'vitest';
import { PollReadModel, pollUpdateOf } from '../src/session/readModel.js';
import { eventForPoll, PollEventLog } from '../src/trpc/eventLog.js';
import { EventQueue, QueueOverflowError } from '../src/trpc/eventQueue.js';
import { pollUpdates } from '../src/trpc/pollUpdates.js';
import { take } from './takeEvents.js';
import { applyMixedBatch, poll, votesEvent } from './votesFixtures.js';

const vote = (p: Poll, voter: string, option: string): { poll: Poll; change: VoteChange } => {
  const version = p.version + 1;
  const selected = [optionHash(option)];
  const voters = [
    ...p.voters.filter((v) => v.voter !== voter),
    { voter, selected, timestampMs: version },
  ];
  return {
    poll: { ...p, version, voters },
    change: { pollId: p.id, voter, selected, unknownHashes: 0, timestampMs: version, version },
  };
};

/** A read model for resyncs, kept current from the log like the real one. */
const readModel = (log: PollEventLog) => {
  const polls = new Map<string, Poll>();
  log.subscribe((e) => {
    if (e.event.type !== 'votes') polls.set(e.event.poll.id, e.event.poll);
  });
  return {
    polls,
    set: (p: Poll) => polls.set(p.id, p),
    listPolls: () => [...polls.values()],
    getPoll: (id: string) => polls.get(id),
  };
};

describe('PollEventLog', () => {
  it('gives ids epoch-seq and the events after a cursor', () => {
    const log = new PollEventLog({ epoch: 'e1', capacity: 5 });
    let p = poll('a');
    log.pollSent(p);
    for (const voter of ['x', 'y']) {
      const v = vote(p, voter, 'Yes');
      p = v.poll;
      log.pollsUpdated([pollUpdateOf(p, [v.change])]);
    }
    expect(log.head).toBe(3);
    expect(log.idOf(3)).toBe('e1-3');
    expect(PollEventLog.parseId('e1-3')).toEqual({ epoch: 'e1', seq: 3 });
    expect(PollEventLog.parseId('e1-3-r0')).toBeNull();
    expect(log.after({ epoch: 'e1', seq: 1 })?.map((e) => e.seq)).toEqual([2, 3]);
    expect(log.after({ epoch: 'e1', seq: 3 })).toEqual([]);
    expect(log.after({ epoch: 'e0', seq: 1 })).toBeNull();
    expect(log.after({ epoch: 'e1', seq: 4 })).toBeNull();
    const last = log.after({ epoch: 'e1', seq: 2 })?.[0]?.event;
    expect(last?.type === 'votes' && last.polls).toMatchObject([
      { pollId: 'a', version: 2, voterCount: 2, counts: [{ count: 2 }, { count: 0 }] },
    ]);
  });

  it('is bounded by events: cursors older than what it keeps cannot resume', () => {
    const log = new PollEventLog({ epoch: 'e1', capacity: 3 });
    for (let i = 0; i < 10; i++) log.pollSent(poll(`p${i}`));
    expect(log.oldest).toBe(8);
    expect(log.after({ epoch: 'e1', seq: 7 })?.map((e) => e.seq)).toEqual([8, 9, 10]);
    expect(log.after({ epoch: 'e1', seq: 6 })).toBeNull();
  });

  it('stays bounded and resumable over many thousands of events', () => {
    const log = new PollEventLog({ epoch: 'e1', capacity: 10 });
    for (let i = 0; i < 3_000; i++) log.pollSent(poll(`p${i}`));
    expect(log.oldest).toBe(2_991);
    expect(log.after({ epoch: 'e1', seq: 2_990 })?.map((e) => e.seq)).toEqual(
      Array.from({ length: 10 }, (_, i) => 2_991 + i),
    );
    expect(
      log
        .after({ epoch: 'e1', seq: 2_995 })
        ?.map((e) => e.event.type === 'pollSent' && e.event.poll.id),
    ).toEqual(['p2995', 'p2996', 'p2997', 'p2998', 'p2999']);
    expect(log.after({ epoch: 'e1', seq: 2_989 })).toBeNull();
  });

  it('is bounded by the vote changes it holds too, keeping the newest event whatever its size', () => {
    const log = new PollEventLog({ epoch: 'e1', maxChanges: 3 });
    let p = poll('a');
    for (const voter of ['x', 'y', 'z']) {
      const v = vote(p, voter, 'Yes');
      p = v.poll;
      log.pollsUpdated([pollUpdateOf(p, [v.change])]);
    }
    expect(log.oldest).toBe(1);
    const big = ['u', 'v', 'w', 't'].map((voter) => {
      const v = vote(p, voter, 'No');
      p = v.poll;
      return v.change;
    });
    log.pollsUpdated([pollUpdateOf(p, big)]);
    expect(log.oldest).toBe(4);
    expect(log.after({ epoch: 'e1', seq: 3 })?.map((e) => e.seq)).toEqual([4]);
    expect(log.after({ epoch: 'e1', seq: 2 })).toBeNull();
  });

  it("weighs a whole state by its voters: a snapshot's states keep no copy of every voter", () => {
    const log = new PollEventLog({ epoch: 'e1', maxChanges: 5 });
    const voters = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        voter: `${i}@lid`,
        selected: [optionHash('Yes')],
        timestampMs: i,
      }));
    // A restart's snapshot: every poll's whole state, one pollState each.
    log.pollsUpdated([pollUpdateOf(poll('a', 3, voters(3)))]);
    log.pollSent(poll('b', 2, voters(2)));
    expect(log.oldest).toBe(1);
    log.pollsUpdated([pollUpdateOf(poll('c', 3, voters(3)))]);
    expect(log.oldest).toBe(2);
    // Resuming from before the states dropped is a resync, not a replay that misses one.
    expect(log.after({ epoch: 'e1', seq: 0 })).toBeNull();
    expect(log.after({ epoch: 'e1', seq: 1 })?.map((e) => e.seq)).toEqual([2, 3]);
  });

  it('logs polls changed together as one votes event, and full states as pollState', () => {
    const log = new PollEventLog({ epoch: 'e1' });
    const a = vote(poll('a'), 'x', 'Yes');
    const b = vote(poll('b'), 'y', 'No');
    const entries = log.pollsUpdated([
      pollUpdateOf(a.poll, [a.change]),
      pollUpdateOf(poll('c', 4)),
      pollUpdateOf(b.poll, [b.change]),
    ]);
    expect(entries.map((e) => [e.event.type, e.pollIds])).toEqual([
      ['pollState', ['c']],
      ['votes', ['a', 'b']],
    ]);
    const votes = entries[1]!;
    expect(eventForPoll(votes, 'b')).toEqual({
      type: 'votes',
      polls: [expect.objectContaining({ pollId: 'b', changes: [b.change] })],
    });
  });
});

describe('votes events on the wire', () => {
  /**
   * What a client receives of an event our transformer sent (tRPC's JSON text between): with
   * no superjson annotations, the value is exactly its JSON round trip.
   */
  const received = (event: unknown) => JSON.parse(JSON.stringify(transformer.serialize(event)));

  it('are plain JSON, as the transformer takes them unwalked: a client gets them exactly', () => {
    // Through the read model, as the server builds them (./votesFixtures.ts).
    const model = new PollReadModel();
    model.put(poll('a'));
    model.put(poll('b'));
    const log = new PollEventLog({ epoch: 'e1' });
    const updates = applyMixedBatch(model);
    const [entry] = log.pollsUpdated(updates);
    // The event as an object, as the log built it before it kept text: the client must get
    // exactly this, and the bytes JSON.stringify makes of it.
    const plain = votesEvent(updates);
    const event = entry!.event;
    expect(event.type).toBe('votes');
    expect(received(event)).toStrictEqual({ json: plain });
    expect(JSON.stringify(transformer.serialize(event))).toBe(JSON.stringify({ json: plain }));
    const onlyB = votesEvent(updates.filter((u) => u.pollId === 'b'));
    expect(received(eventForPoll(entry!, 'b'))).toStrictEqual({ json: onlyB });
    expect(JSON.stringify(transformer.serialize(eventForPoll(entry!, 'b')))).toBe(
      JSON.stringify({ json: onlyB }),
    );
    // Byte for byte what the transformer sends for the same value after walking it (a copy,
    // which nobody vouched for): superjson's annotations would differ.
    const copy = structuredClone(plain);
    expect(JSON.stringify(transformer.serialize(event))).toBe(
      JSON.stringify(transformer.serialize(copy)),
    );
  });
});

describe('EventQueue', () => {
  it('ends a subscriber that falls too far behind, without growing', async () => {
    const queue = new EventQueue<number>(3);
    for (let i = 0; i < 10; i++) queue.push(i);
    expect(queue.size).toBe(0);
    await expect(queue[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(QueueOverflowError);
  });

  it('stops on abort', async () => {
    const ac = new AbortController();
    const queue = new EventQueue<number>(3, ac.signal);
    const reading = queue[Symbol.asyncIterator]().next();
    ac.abort();
    await expect(reading).resolves.toEqual({ done: true, value: undefined });
  });
});

describe('pollUpdates', () => {
  it('resumes from lastEventId with exactly the events it missed', async () => {
    const log = new PollEventLog({ epoch: 'e1' });
    const model = readModel(log);
    let p = poll('a');
    log.pollSent(p);
    const ac = new AbortController();
    const first = pollUpdates({ log, polls: model, signal: ac.signal, snapshot: false });
    const [synced] = await take(first, 1);
    expect(synced).toEqual({ id: 'e1-1', event: { type: 'synced' } });
    const seen: string[] = [];
    const reading = take(first, 2);
    for (const voter of ['x', 'y']) {
      const v = vote(p, voter, 'Yes');
      p = v.poll;
      log.pollsUpdated([pollUpdateOf(p, [v.change])]);
    }
    for (const e of await reading) seen.push(e.id);
    ac.abort();
    await first.return();
    // Missed while away:
    for (const voter of ['z', 'w']) {
      const v = vote(p, voter, 'No');
      p = v.poll;
      log.pollsUpdated([pollUpdateOf(p, [v.change])]);
    }
    const ac2 = new AbortController();
    const resumed = pollUpdates({
      log,
      polls: model,
      lastEventId: seen.at(-1),
      signal: ac2.signal,
    });
    const backlog = await take(resumed, 2);
    const live = take(resumed, 1);
    const v = vote(p, 'q', 'Yes');
    log.pollsUpdated([pollUpdateOf(v.poll, [v.change])]);
    const all = [...seen, ...backlog.map((e) => e.id), ...(await live).map((e) => e.id)];
    expect(all).toEqual(['e1-2', 'e1-3', 'e1-4', 'e1-5', 'e1-6']);
    ac2.abort();
    await resumed.return();
  });

  it('does not lose events appended while the backlog is read, nor repeat them', async () => {
    const log = new PollEventLog({ epoch: 'e1' });
    const model = readModel(log);
    for (let i = 0; i < 5; i++) log.pollSent(poll(`p${i}`));
    const gen = pollUpdates({ log, polls: model, lastEventId: 'e1-2' });
    const firstTwo = await take(gen, 2); // subscribed and inside the backlog now
    log.pollSent(poll('late'));
    const rest = await take(gen, 2);
    expect([...firstTwo, ...rest].map((e) => e.id)).toEqual(['e1-3', 'e1-4', 'e1-5', 'e1-6']);
    await gen.return();
  });

  it('resyncs an id from another epoch or older than the buffer, for the filtered poll only', async () => {
    const log = new PollEventLog({ epoch: 'e2', capacity: 2 });
    const model = readModel(log);
    for (const id of ['a', 'b', 'c', 'd']) log.pollSent(poll(id));
    for (const lastEventId of ['e1-9', 'e2-1', 'garbage']) {
      const gen = pollUpdates({ log, polls: model, lastEventId, pollId: 'b' });
      const events = await take(gen, 2);
      expect(events.map((e) => e.event.type)).toEqual(['pollState', 'synced']);
      expect(events[0]?.event).toMatchObject({ poll: { id: 'b' } });
      expect(events[0]?.id).toBe('e2-4-r0');
      expect(events[1]?.id).toBe('e2-4');
      await gen.return();
    }
    // Everything, for a fresh subscriber:
    const gen = pollUpdates({ log, polls: model });
    expect((await take(gen, 5)).map((e) => e.event.type)).toEqual([
      'pollState',
      'pollState',
      'pollState',
      'pollState',
      'synced',
    ]);
    await gen.return();
  });

  it('filters by poll id when resuming', async () => {
    const log = new PollEventLog({ epoch: 'e1' });
    const model = readModel(log);
    log.pollSent(poll('a'));
    log.pollSent(poll('b'));
    log.pollsUpdated([pollUpdateOf(poll('a', 1))]);
    const gen = pollUpdates({ log, polls: model, lastEventId: 'e1-0', pollId: 'a' });
    expect((await take(gen, 2)).map((e) => e.id)).toEqual(['e1-1', 'e1-3']);
    await gen.return();
  });

  it("gives a filtered subscriber its own poll's part of a batch, live and resumed", async () => {
    const log = new PollEventLog({ epoch: 'e1' });
    const model = readModel(log);
    const batch = () => {
      const a = vote(poll('a'), 'x', 'Yes');
      const b = vote(poll('b'), 'y', 'No');
      log.pollsUpdated([pollUpdateOf(a.poll, [a.change]), pollUpdateOf(b.poll, [b.change])]);
      log.pollsUpdated([pollUpdateOf(a.poll, [a.change])]);
      return b.change;
    };
    const live = pollUpdates({ log, polls: model, snapshot: false, pollId: 'b' });
    await take(live, 1);
    const reading = take(live, 1);
    const change = batch();
    const want = {
      type: 'votes',
      polls: [expect.objectContaining({ pollId: 'b', changes: [change] })],
    };
    expect((await reading)[0]).toEqual({ id: 'e1-1', event: want });
    await live.return();

    const resumed = pollUpdates({ log, polls: model, lastEventId: 'e1-0', pollId: 'b' });
    const next = take(resumed, 2);
    batch();
    expect((await next).map((e) => [e.id, e.event])).toEqual([
      ['e1-1', want],
      ['e1-3', want],
    ]);
    await resumed.return();
  });

  it('ends a slow subscriber with a LIMIT_EXCEEDED error instead of buffering', async () => {
    const log = new PollEventLog({ epoch: 'e1' });
    const model = readModel(log);
    const gen = pollUpdates({ log, polls: model, snapshot: false, maxQueue: 5 });
    await take(gen, 1);
    for (let i = 0; i < 20; i++) log.pollSent(poll(`p${i}`));
    await expect(gen.next()).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
  });

  it("counts only a filtered subscriber's own poll towards its bound", async () => {
    const log = new PollEventLog({ epoch: 'e1' });
    const model = readModel(log);
    const gen = pollUpdates({ log, polls: model, snapshot: false, pollId: 'a', maxQueue: 5 });
    await take(gen, 1);
    // Other polls' events, many more than its bound, while it reads nothing: not its business.
    for (let i = 0; i < 20; i++) log.pollSent(poll(`p${i}`));
    log.pollSent(poll('a'));
    expect((await take(gen, 1)).map((e) => e.event.type)).toEqual(['pollSent']);
    await gen.return();
  });
});
