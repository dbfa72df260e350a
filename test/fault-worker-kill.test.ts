import { createPollMastersClient } from '@pollmasters/client';
import type { Poll, VoteChange } from '@pollmasters/shared';
import { afterEach, expect, it } from 'vitest';
import { normalizeExpected, SandboxProbe, votersByName } from './helpers/sandbox.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { AckedVotes, missingAcked } from './helpers/votes.js';
import { sessionStatus, until } from './helpers/wait.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.destroy();
  server = undefined;
});

const key = (c: { pollId: string; voter: string; timestampMs: number }) =>
  `${c.pollId}/${c.voter}/${c.timestampMs}`;

it('a worker killed during a stream of votes loses no stored vote, and takes redeliveries once', async () => {
  server = await startTestServer({
    sandbox: { groups: 2, membersPerGroup: 40, voteDelayMs: { min: 0, max: 1_200 } },
  });
  const s = server;
  const client = createPollMastersClient({ url: `http://127.0.0.1:${s.port}` });
  const probe = new SandboxProbe(s.sandboxChannel);
  try {
    await sessionStatus(s.session);
    const acked = new AckedVotes(client);
    const groups = (await s.session.listChats()).filter((c) => c.isGroup);
    const polls: Poll[] = [];
    for (const chat of groups) {
      polls.push(
        await s.session.sendPoll({
          chatId: chat.id,
          question: `Kill ${chat.id}?`,
          options: ['yes', 'no', 'maybe'],
          selectableCount: 0,
        }),
      );
    }

    // Mid-stream: right after a batch was acknowledged, while more are in flight.
    await acked.atLeast(30);
    const ackedBeforeKill = [...acked.changes];
    const castsBeforeKill = [...probe.casts];
    await s.session.killWorker();
    expect(s.session.workerState).not.toBe('running');
    await sessionStatus(s.session);

    // Every vote acknowledged as stored is there right after the restart.
    expect(missingAcked(s.session.listPolls(), ackedBeforeKill, castsBeforeKill)).toEqual([]);
    expect(castsBeforeKill.length).toBeGreaterThan(ackedBeforeKill.length / 2);

    // The network redelivers what the dead connection never acknowledged; once settled, the
    // counts are exactly what was cast.
    const expected = await probe.settled(polls.map((p) => p.id));
    for (const poll of polls) {
      await until(
        s.session,
        'pollsUpdated',
        () => {
          const now = s.session.getPoll(poll.id);
          if (!now) return undefined;
          const want = normalizeExpected(now, expected[poll.id] ?? {});
          return JSON.stringify(votersByName(now)) === JSON.stringify(want) ? true : undefined;
        },
        `poll ${poll.id} to match the ledger`,
      );
    }

    // Redeliveries happened, some of them of votes stored before the kill, and none of those
    // was announced (counted) again.
    expect(probe.redelivered.length).toBeGreaterThan(0);
    const castById = new Map(probe.casts.map((v) => [v.messageId, v]));
    const ackedKeys = new Set(ackedBeforeKill.map(key));
    const redeliveredStored = probe.redelivered.filter((id) => {
      const v = castById.get(id);
      return (
        v &&
        ackedKeys.has(key({ pollId: v.pollId, voter: v.voterId, timestampMs: v.senderTimestampMs }))
      );
    });
    expect(redeliveredStored.length).toBeGreaterThan(0);
    const afterKill: VoteChange[] = acked.changes.slice(ackedBeforeKill.length);
    expect(afterKill.filter((c) => ackedKeys.has(key(c)))).toEqual([]);
    acked.close();
  } finally {
    probe.close();
    await client.close();
  }
});
