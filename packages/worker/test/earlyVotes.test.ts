import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parsePollCreation } from '../src/votes/pollMessage.js';
import {
  ALICE,
  BOB,
  GROUP,
  groupKey,
  hashes,
  lidGroupVote,
  ME,
  pollCreation,
  voteMessage,
} from './fixtures.js';
import { makePollsHarness, type PollsHarness } from './pollsHarness.js';
import { engines, storeHomes } from './storeEngines.js';

let h: PollsHarness | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await h?.close();
  h = undefined;
});

const secret = randomBytes(32);
const ownPoll = (id = 'P') =>
  pollCreation({ id, key: { remoteJid: GROUP, fromMe: true, participant: ME.lid }, secret });
const vote = (who: typeof ALICE, options: string[], timestampMs: number, pollId = 'P') =>
  lidGroupVote(pollId, secret, who, options, timestampMs);

describe.each(engines)('on %s', (engine) => {
  const home = storeHomes(engine, 'earlyvotes');

  describe('early votes', () => {
    it('wait for their poll and are applied in the order they came once it arrives', async () => {
      h = await makePollsHarness(home());
      await h.deliver(vote(ALICE, ['Pizza'], 1000), vote(BOB, ['Pasta'], 1500));
      await h.deliver(vote(ALICE, ['Salad'], 2000));
      expect(h.rejected()).toEqual([]);
      expect(h.changes()).toEqual([]);
      expect(await h.waitingRows()).toBe(3);
      expect(h.reports().at(-1)).toMatchObject({ waiting: 3, expired: { age: 0, limit: 0 } });

      await h.deliver(ownPoll());
      expect(h.stored().map((p) => p.id)).toEqual(['P']);
      expect(h.changes().map((c) => [c.voter, c.selected, c.version])).toEqual([
        [ALICE.pn, hashes('Pizza'), 1],
        [BOB.pn, hashes('Pasta'), 2],
        [ALICE.pn, hashes('Salad'), 3],
      ]);
      expect(h.poll('P').voters.map((v) => [v.voter, v.selected])).toEqual([
        [ALICE.pn, hashes('Salad')],
        [BOB.pn, hashes('Pasta')],
      ]);
      expect(await h.waitingRows()).toBe(0);
      expect(h.reports().at(-1)).toMatchObject({ waiting: 0 });
      expect(h.rejected()).toEqual([]);
    });

    it('come before their poll in the same batch too', async () => {
      h = await makePollsHarness(home());
      await h.deliver(vote(ALICE, ['Pizza'], 1000), ownPoll());
      expect(h.poll('P').voters.map((v) => v.voter)).toEqual([ALICE.pn]);
      expect(await h.waitingRows()).toBe(0);
    });

    it('survive a restart, and wait for a poll that arrives after it', async () => {
      h = await makePollsHarness(home());
      await h.deliver(vote(ALICE, ['Pizza'], 1000), vote(BOB, ['Salad'], 1000));
      await h.reopen();
      expect(h.reports().at(-1)).toMatchObject({ waiting: 2 });
      await h.deliver(ownPoll());
      expect(h.poll('P').voters.map((v) => [v.voter, v.selected])).toEqual([
        [ALICE.pn, hashes('Pizza')],
        [BOB.pn, hashes('Salad')],
      ]);
      expect(await h.waitingRows()).toBe(0);
    });

    it('are applied at start when their poll was stored just before a crash', async () => {
      h = await makePollsHarness(home());
      await h.deliver(vote(ALICE, ['Pasta'], 1000));
      // The poll was stored, then the process died before its early votes were applied.
      h.polls.add(parsePollCreation(ownPoll(), ME)!);
      await h.reopen();
      expect(h.poll('P').voters.map((v) => [v.voter, v.selected])).toEqual([
        [ALICE.pn, hashes('Pasta')],
      ]);
      expect(await h.waitingRows()).toBe(0);
    });

    it('beyond the limit, the oldest is given up as unknown_poll and counted', async () => {
      h = await makePollsHarness(home(), { earlyVotesMax: 2 });
      await h.deliver(vote(ALICE, ['Pizza'], 1000, 'X'), vote(BOB, ['Pizza'], 1000, 'Y'));
      await h.deliver(vote(ALICE, ['Salad'], 2000, 'Z'));
      expect(h.rejected()).toEqual([
        expect.objectContaining({ reason: 'unknown_poll', pollId: 'X', chatId: GROUP }),
      ]);
      expect(await h.waitingRows()).toBe(2);
      expect(h.reports().at(-1)).toMatchObject({ waiting: 2, expired: { age: 0, limit: 1 } });
    });

    it('with a limit of 0, none is kept: rejected as unknown_poll at once', async () => {
      h = await makePollsHarness(home(), { earlyVotesMax: 0 });
      await h.deliver(vote(ALICE, ['Pizza'], 1000));
      expect(h.rejected()).toEqual([expect.objectContaining({ reason: 'unknown_poll' })]);
      expect(await h.waitingRows()).toBe(0);
    });

    it('after their age, are given up as unknown_poll by the timer, in the order they came', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      h = await makePollsHarness(home(), { earlyVoteMaxAgeSec: 60 });
      await h.deliver(vote(ALICE, ['Pizza'], 1000, 'X'));
      await vi.advanceTimersByTimeAsync(30_000);
      await h.deliver(vote(BOB, ['Pizza'], 1000, 'Y'));
      await vi.advanceTimersByTimeAsync(30_001);
      await h.idle();
      expect(h.rejected()).toEqual([
        expect.objectContaining({
          reason: 'unknown_poll',
          pollId: 'X',
          detail: expect.stringMatching(/60 s/),
        }),
      ]);
      expect(h.reports().at(-1)).toMatchObject({ waiting: 1, expired: { age: 1, limit: 0 } });
      await vi.advanceTimersByTimeAsync(30_000);
      await h.idle();
      expect(h.rejected().map((r) => r.pollId)).toEqual(['X', 'Y']);
      expect(await h.waitingRows()).toBe(0);
    });

    it('that expired while the worker was down are given up at start', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      h = await makePollsHarness(home(), { earlyVoteMaxAgeSec: 60 });
      await h.deliver(vote(ALICE, ['Pizza'], 1000));
      vi.setSystemTime(Date.now() + 61_000);
      await h.reopen();
      expect(h.rejected()).toEqual([
        expect.objectContaining({ reason: 'unknown_poll', pollId: 'P' }),
      ]);
      expect(h.reports().at(-1)).toMatchObject({ waiting: 0, expired: { age: 1 } });
      // The poll arrives too late: nothing waits for it any more.
      await h.deliver(ownPoll());
      expect(h.poll('P').voters).toEqual([]);
    });

    it("with 'own', a vote on another member's poll is counted as untracked_poll, not kept", async () => {
      h = await makePollsHarness(home(), { trackPolls: 'own' });
      const theirs = voteMessage({
        pollId: 'THEIRS',
        secret,
        signCreator: BOB.lid,
        signVoter: ALICE.lid,
        key: groupKey(ALICE),
        options: ['Pizza'],
        timestampMs: 1000,
        pollFromMe: false,
      });
      await h.deliver(theirs);
      expect(h.rejected()).toEqual([
        expect.objectContaining({ reason: 'untracked_poll', pollId: 'THEIRS', chatId: GROUP }),
      ]);
      expect(await h.waitingRows()).toBe(0);
    });
  });
});
