import { randomBytes } from 'node:crypto';
import { optionHash } from '@pollmasters/shared/node';
import type { proto } from '@whiskeysockets/baileys';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ALICE,
  BOB,
  directKey,
  GROUP,
  groupKey,
  hashes,
  ME,
  pollCreation,
  voteMessage,
} from './fixtures.js';
import { makePollsHarness, type PollsHarness } from './pollsHarness.js';
import { engines, storeHomes } from './storeEngines.js';

let h: PollsHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const secret = randomBytes(32);
/** Alice's poll in a LID-addressed group, as her phone sent it. */
const alicePoll = pollCreation({ id: 'A1', key: groupKey(ALICE), secret });
const voteOnAlicePoll = (who: typeof ALICE, options: string[], timestampMs: number) =>
  voteMessage({
    pollId: 'A1',
    secret,
    signCreator: ALICE.lid,
    signVoter: who.lid,
    key: groupKey(who),
    options,
    timestampMs,
    pollFromMe: false,
  });

/** A vote as a history message's `pollUpdates` holds it: plaintext hashes, the voter's key. */
const historyVote = (
  key: proto.IMessageKey,
  options: string[],
  senderTimestampMs: number,
): proto.IPollUpdate => ({
  pollUpdateMessageKey: key,
  vote: { selectedOptions: options.map((o) => Buffer.from(optionHash(o), 'hex')) },
  senderTimestampMs,
});

const votersOf = (h: PollsHarness, id: string) =>
  h.poll(id).voters.map((v) => [v.voter, v.selected]);

describe.each(engines)('on %s', (engine) => {
  const home = storeHomes(engine, 'trackedpolls');

  describe("other members' polls", () => {
    it("with 'all': tracked, creator by PN, and their votes decrypted like ours", async () => {
      h = await makePollsHarness(home(), { trackPolls: 'all' });
      await h.deliver(alicePoll);
      expect(h.stored().map((p) => [p.id, p.creator])).toEqual([
        ['A1', { jid: ALICE.pn, fromMe: false }],
      ]);
      await h.deliver(
        voteOnAlicePoll(BOB, ['Pasta'], 1000),
        voteOnAlicePoll(ALICE, ['Pizza'], 1000),
      );
      expect(h.rejected()).toEqual([]);
      expect(votersOf(h, 'A1')).toEqual([
        [ALICE.pn, hashes('Pizza')],
        [BOB.pn, hashes('Pasta')],
      ]);
    });

    it("with 'all': a creator known only by LID is named by PN when the mapping knows it", async () => {
      h = await makePollsHarness(home(), { trackPolls: 'all' }, { [ALICE.lid]: ALICE.pn });
      await h.deliver(pollCreation({ id: 'A2', key: groupKey(ALICE, false), secret }));
      expect(h.poll('A2').creator).toEqual({ jid: ALICE.pn, fromMe: false });
      expect(h.polls.get('A2')!.creatorJids).toEqual([ALICE.lid, ALICE.pn]);
    });

    it("with 'own': not tracked, and a vote on it is counted as untracked_poll", async () => {
      h = await makePollsHarness(home(), { trackPolls: 'own' });
      await h.deliver(alicePoll, voteOnAlicePoll(BOB, ['Pasta'], 1000));
      expect(h.stored()).toEqual([]);
      expect(h.polls.get('A1')).toBeUndefined();
      expect(h.rejected()).toEqual([
        expect.objectContaining({ reason: 'untracked_poll', pollId: 'A1' }),
      ]);
    });
  });

  describe('the history sync', () => {
    /** Our poll from the phone, with the votes the phone had decrypted, secret at the top. */
    const ownHistoryPoll = pollCreation({
      id: 'H1',
      key: { remoteJid: GROUP, fromMe: true, participant: ME.lid },
      extra: {
        messageSecret: secret,
        pollUpdates: [
          historyVote({ remoteJid: GROUP, fromMe: true, id: 'V1' }, ['Pizza'], 1000),
          historyVote(
            { remoteJid: GROUP, fromMe: false, id: 'V2', participant: ALICE.lid },
            ['Salad'],
            1100,
          ),
          historyVote(
            { remoteJid: GROUP, fromMe: false, id: 'V3', participant: BOB.lid },
            ['Pasta'],
            1200,
          ),
          // Bob withdrew later.
          historyVote(
            { remoteJid: GROUP, fromMe: false, id: 'V4', participant: BOB.lid },
            [],
            1300,
          ),
        ],
      },
    });

    it('stores our polls with the votes the phone decrypted: ours, and members by canonical id', async () => {
      h = await makePollsHarness(home(), {}, { [ALICE.lid]: ALICE.pn });
      await h.history(ownHistoryPoll);
      expect(h.stored().map((p) => [p.id, p.creator])).toEqual([
        ['H1', { jid: ME.pn, fromMe: true }],
      ]);
      expect(h.rejected()).toEqual([]);
      // Bob's mapping is unknown: his LID is his id; his withdrawal leaves him out.
      expect(votersOf(h, 'H1')).toEqual([
        [ME.pn, hashes('Pizza')],
        [ALICE.pn, hashes('Salad')],
      ]);
      expect(h.changes().map((c) => c.voter)).toEqual([ME.pn, ALICE.pn, BOB.lid, BOB.lid]);
    });

    it('keeps the secret: live votes after it decrypt; a history sync again changes nothing', async () => {
      h = await makePollsHarness(home(), {}, { [ALICE.lid]: ALICE.pn });
      await h.history(ownHistoryPoll);
      await h.deliver(
        voteMessage({
          pollId: 'H1',
          secret,
          signCreator: ME.lid,
          signVoter: ALICE.lid,
          key: groupKey(ALICE),
          options: ['Pasta'],
          timestampMs: 5000,
        }),
      );
      const before = h.poll('H1');
      expect(votersOf(h, 'H1')).toContainEqual([ALICE.pn, hashes('Pasta')]);
      // The same history again (another chunk, a new link): older states are old news.
      await h.history(ownHistoryPoll);
      expect(h.poll('H1')).toEqual(before);
      expect(h.rejected()).toEqual([]);
    });

    it("reads a direct chat's votes by the chat, and tracks members' polls only with 'all'", async () => {
      const dmPoll = pollCreation({
        id: 'H2',
        key: directKey(ALICE),
        secret,
        extra: {
          pollUpdates: [
            historyVote({ remoteJid: ALICE.pn, fromMe: false, id: 'V5' }, ['Pizza'], 1000),
          ],
        },
      });
      h = await makePollsHarness(home(), { trackPolls: 'own' });
      await h.history(dmPoll);
      expect(h.stored()).toEqual([]);
      await h.close();

      h = await makePollsHarness(home(), { trackPolls: 'all' });
      await h.history(dmPoll);
      expect(h.poll('H2').creator).toEqual({ jid: ALICE.pn, fromMe: false });
      expect(votersOf(h, 'H2')).toEqual([[ALICE.pn, hashes('Pizza')]]);
    });
  });
});
