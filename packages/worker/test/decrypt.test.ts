import { optionHash } from '@pollmasters/shared/node';
import { jidNormalizedUser } from '@whiskeysockets/baileys';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { decryptVote, normalUser } from '../src/votes/decrypt.js';
import { encryptVote } from '../src/votes/encryptVote.js';
import {
  ALICE,
  BOB,
  directKey,
  GROUP,
  groupKey,
  hashes,
  ME,
  makeHarness,
  voteMessage,
} from './fixtures.js';

let h: ReturnType<typeof makeHarness>;
afterEach(() => h?.close());

describe('vote decryption vectors', () => {
  // One vote each: who signs as the creator and as the voter, the key it arrives with, and
  // the voter it must be counted under (the PN whenever the key names it).
  it.each([
    ['creator LID + voter PN', GROUP, ME.lid, ALICE.pn, groupKey(ALICE), 'Pasta', ALICE.pn],
    [
      'creator PN + voter PN (direct chat)',
      ALICE.pn,
      ME.pn,
      ALICE.pn,
      directKey(ALICE),
      'Pizza',
      ALICE.pn,
    ],
    ['creator PN + voter LID', GROUP, ME.pn, BOB.lid, groupKey(BOB), 'Pasta', BOB.pn],
    [
      'our own vote from another device (fromMe)',
      GROUP,
      ME.lid,
      ME.lid,
      { remoteJid: GROUP, fromMe: true, participant: ME.lid },
      'Pizza',
      ME.pn,
    ],
  ])('%s', async (_name, chat, signCreator, signVoter, key, option, counted) => {
    h = makeHarness();
    const secret = h.addPoll('P', chat);
    await h.vote(
      voteMessage({
        pollId: 'P',
        secret,
        signCreator,
        signVoter,
        key,
        options: [option],
        timestampMs: 1000,
      }),
    );
    expect(h.rejected).toEqual([]);
    expect(h.poll('P').voters.map((v) => [v.voter, v.selected])).toEqual([
      [counted, hashes(option)],
    ]);
  });

  it('creator LID + voter LID, canonical PN when the mapping is known, else LID', async () => {
    h = makeHarness({ [ALICE.lid]: ALICE.pn });
    const secret = h.addPoll('P3', GROUP);
    // No participantAlt in the key: the PN comes from WhatsApp's LID mapping (Alice) or not at all (Bob).
    await h.vote(
      voteMessage({
        pollId: 'P3',
        secret,
        signCreator: ME.lid,
        signVoter: ALICE.lid,
        key: groupKey(ALICE, false),
        options: ['Salad'],
        timestampMs: 1000,
      }),
    );
    await h.vote(
      voteMessage({
        pollId: 'P3',
        secret,
        signCreator: ME.lid,
        signVoter: BOB.lid,
        key: groupKey(BOB, false),
        options: ['Pizza'],
        timestampMs: 1000,
      }),
    );
    expect(h.rejected).toEqual([]);
    expect(
      h
        .poll('P3')
        .voters.map((v) => v.voter)
        .sort(),
    ).toEqual([BOB.lid, ALICE.pn].sort());
  });

  it('rejects a forged vote (wrong secret): no pair authenticates, nothing counted', async () => {
    h = makeHarness();
    h.addPoll('P6', GROUP);
    await h.vote(
      voteMessage({
        pollId: 'P6',
        secret: new Uint8Array(32).fill(7),
        signCreator: ME.lid,
        signVoter: ALICE.pn,
        key: groupKey(ALICE),
        options: ['Pizza'],
        timestampMs: 1000,
      }),
    );
    expect(h.rejected).toEqual([
      expect.objectContaining({ reason: 'no_pair_authenticates', pollId: 'P6', chatId: GROUP }),
    ]);
    expect(h.poll('P6').voters).toEqual([]);
    expect(h.accepted).toEqual([]);
  });

  it('rejects a vote signed for another voter than the key names', async () => {
    h = makeHarness();
    const secret = h.addPoll('P7', GROUP);
    await h.vote(
      voteMessage({
        pollId: 'P7',
        secret,
        signCreator: ME.lid,
        signVoter: BOB.lid,
        key: groupKey(ALICE),
        options: ['Pizza'],
        timestampMs: 1000,
      }),
    );
    expect(h.rejected.map((r) => r.reason)).toEqual(['no_pair_authenticates']);
  });

  it('rejects a vote for an unknown poll', async () => {
    h = makeHarness();
    await h.vote(
      voteMessage({
        pollId: 'NOPE',
        secret: new Uint8Array(32),
        signCreator: ME.lid,
        signVoter: ALICE.pn,
        key: groupKey(ALICE),
        options: ['Pizza'],
        timestampMs: 1000,
      }),
    );
    expect(h.rejected).toEqual([
      expect.objectContaining({ reason: 'unknown_poll', pollId: 'NOPE' }),
    ]);
  });

  it('rejects a poll stored without a secret, and a malformed update', async () => {
    h = makeHarness();
    h.polls.add({
      id: 'NS',
      chatId: GROUP,
      creator: { jid: ME.pn, fromMe: true },
      question: 'q',
      options: [],
      selectableCount: 0,
      createdAt: 1,
      secret: null,
      creatorJids: [ME.pn],
      message: new Uint8Array([1]),
    });
    await h.vote(
      voteMessage({
        pollId: 'NS',
        secret: new Uint8Array(32),
        signCreator: ME.lid,
        signVoter: ALICE.pn,
        key: groupKey(ALICE),
        options: ['Pizza'],
        timestampMs: 1000,
      }),
    );
    const malformed = voteMessage({
      pollId: 'NS',
      secret: new Uint8Array(32),
      signCreator: ME.lid,
      signVoter: ALICE.pn,
      key: groupKey(ALICE),
      options: [],
      timestampMs: 1,
    });
    malformed.message!.pollUpdateMessage!.vote = {};
    await h.vote(malformed);
    expect(h.rejected.map((r) => r.reason)).toEqual(['no_secret', 'malformed']);
  });

  it('counts a hash that matches no option apart, outside the results', async () => {
    h = makeHarness();
    const secret = h.addPoll('P8', GROUP, 0);
    await h.vote(
      voteMessage({
        pollId: 'P8',
        secret,
        signCreator: ME.lid,
        signVoter: ALICE.pn,
        key: groupKey(ALICE),
        options: ['Pizza', 'Not an option'],
        timestampMs: 1000,
      }),
    );
    const poll = h.poll('P8');
    expect(poll.voters.map((v) => v.selected)).toEqual([hashes('Pizza')]);
    expect(poll.unknownOptionVotes).toBe(1);
  });

  it('remembers the winning pair per chat across a restart', async () => {
    h = makeHarness();
    const secret = h.addPoll('P9', GROUP);
    await h.vote(
      voteMessage({
        pollId: 'P9',
        secret,
        signCreator: ME.lid,
        signVoter: ALICE.lid,
        key: groupKey(ALICE),
        options: ['Pizza'],
        timestampMs: 1000,
      }),
    );
    h.reopen();
    // A new vote on the old poll still decrypts after the restart.
    await h.vote(
      voteMessage({
        pollId: 'P9',
        secret,
        signCreator: ME.lid,
        signVoter: BOB.lid,
        key: groupKey(BOB),
        options: ['Salad'],
        timestampMs: 2000,
      }),
    );
    expect(h.rejected).toEqual([]);
    expect(
      h
        .poll('P9')
        .voters.map((v) => v.voter)
        .sort(),
    ).toEqual([ALICE.pn, BOB.pn].sort());
  });
});

describe('our own JIDs', () => {
  it('learns our own LID when the poll was stored knowing only our PN', async () => {
    // Our account's LID was unknown when the poll was sent; WhatsApp's mapping knows it now.
    h = makeHarness({ [ME.lid]: ME.pn }, { pn: ME.pn });
    const secret = h.addPoll('P10', GROUP, 1, undefined, [ME.pn]);
    const cast = (who: typeof ALICE, option: string, timestampMs: number) =>
      h.vote(
        voteMessage({
          pollId: 'P10',
          secret,
          signCreator: ME.lid,
          signVoter: who.lid,
          key: groupKey(who),
          options: [option],
          timestampMs,
        }),
      );
    await cast(ALICE, 'Pizza', 1000);
    expect(h.rejected).toEqual([]);
    expect(h.poll('P10').voters.map((v) => v.voter)).toEqual([ALICE.pn]);
    // Stored: after a restart the poll knows both forms.
    h.reopen();
    expect(h.polls.get('P10')?.creatorJids).toEqual([ME.pn, ME.lid]);
    await cast(BOB, 'Salad', 2000);
    expect(h.poll('P10').voters).toHaveLength(2);
  });
});

describe('normalUser', () => {
  it('is jidNormalizedUser for PN and LID user JIDs, with and without device or agent', () => {
    for (const jid of [
      '491701234567@s.whatsapp.net',
      '491701234567:12@s.whatsapp.net',
      '491701234567_1:3@s.whatsapp.net',
      '123456789012345@lid',
      '123456789012345:7@lid',
      '@lid',
    ]) {
      expect(normalUser(jid)).toBe(jidNormalizedUser(jid));
    }
  });
});

describe('decryptVote names the option hashes a vote picks', () => {
  const poll = { id: 'P', secret: new Uint8Array(32).fill(7), creatorJids: [ME.lid] };
  const signer = [{ jid: ALICE.lid, source: 'participant' }];
  const ctx = {
    pollMsgId: 'P',
    pollEncKey: poll.secret,
    pollCreatorJid: ME.lid,
    voterJid: ALICE.lid,
  };
  const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
  // The poll's hashes as PollStore keeps them, and one that is not lowercase hex (no vote's).
  const pizza = optionHash('Pizza');
  const pollHashes = [pizza, optionHash('Pasta'), optionHash('Salad').toUpperCase()];

  it('as the hex of their bytes, in order: the poll options, unknown hashes, any length', () => {
    const picked = fc.array(
      fc.oneof(
        fc.constantFrom(pizza, optionHash('Pasta'), optionHash('Salad')),
        fc.uint8Array({ minLength: 32, maxLength: 32 }).map(hexOf),
        fc.uint8Array({ minLength: 0, maxLength: 40 }).map(hexOf),
      ),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(picked, (hashesPicked) => {
        const enc = encryptVote(hashesPicked, ctx);
        const read = decryptVote(enc, { ...poll, hashes: pollHashes }, signer);
        expect(read?.selected).toEqual(hashesPicked);
        // Without the poll's hashes, the same.
        expect(decryptVote(enc, poll, signer)?.selected).toEqual(hashesPicked);
      }),
      { numRuns: 200 },
    );
  });
});
