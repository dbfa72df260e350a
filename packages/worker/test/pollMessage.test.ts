import { optionHash } from '@pollmasters/shared/node';
import type { proto } from '@whiskeysockets/baileys';
import { describe, expect, it } from 'vitest';
import { parsePollCreation } from '../src/votes/pollMessage.js';
import { ALICE, GROUP, ME, received } from './fixtures.js';

const SECRET = new Uint8Array(32).fill(7);
const creation = (selectableOptionsCount: number) => ({
  name: 'Lunch?',
  options: [{ optionName: 'Pizza' }, { optionName: 'Salad' }],
  selectableOptionsCount,
});

const ownGroupKey = { remoteJid: GROUP, fromMe: true, id: 'P1', participant: ME.lid };
const withSecret = (content: proto.IMessage): proto.IMessage => ({
  ...content,
  messageContextInfo: { messageSecret: SECRET },
});

describe('parsePollCreation', () => {
  it.each([
    ['V1 (multiple answers)', { pollCreationMessage: creation(0) }, 0],
    ['V2 (announcement group)', { pollCreationMessageV2: creation(0) }, 0],
    ['V3 (single answer)', { pollCreationMessageV3: creation(1) }, 1],
    ['V5 (newer clients)', { pollCreationMessageV5: creation(2) }, 2],
    [
      'V4 (a future-proof wrapper)',
      { pollCreationMessageV4: { message: { pollCreationMessageV3: creation(1) } } },
      1,
    ],
  ])('reads a poll of ours, %s, with its secret', (_, content, selectable) => {
    const poll = parsePollCreation(received(ownGroupKey, withSecret(content)), ME);
    expect(poll).toMatchObject({
      id: 'P1',
      chatId: GROUP,
      creator: { jid: ME.pn, fromMe: true },
      question: 'Lunch?',
      options: [
        { name: 'Pizza', hash: optionHash('Pizza') },
        { name: 'Salad', hash: optionHash('Salad') },
      ],
      selectableCount: selectable,
      createdAt: 1_700_000_000_000,
      creatorJids: [ME.pn, ME.lid],
    });
    expect(Buffer.from(poll!.secret!)).toEqual(Buffer.from(SECRET));
  });

  it('finds the secret of a history message at its top level, and inside a disappearing message', () => {
    const history = received(
      ownGroupKey,
      { pollCreationMessage: creation(0) },
      { messageSecret: SECRET },
    );
    expect(Buffer.from(parsePollCreation(history, ME)!.secret!)).toEqual(Buffer.from(SECRET));
    const ephemeral = received(ownGroupKey, {
      ephemeralMessage: { message: withSecret({ pollCreationMessageV3: creation(1) }) },
    });
    expect(Buffer.from(parsePollCreation(ephemeral, ME)!.secret!)).toEqual(Buffer.from(SECRET));
  });

  it('keeps a poll without a secret (its votes are rejected as no_secret, not lost silently)', () => {
    const poll = parsePollCreation(received(ownGroupKey, { pollCreationMessage: creation(0) }), ME);
    expect(poll?.secret).toBeNull();
  });

  it('reads another member poll in a LID group: creator PN from participantAlt, both JIDs to try', () => {
    const key = {
      remoteJid: GROUP,
      fromMe: false,
      id: 'M1',
      participant: `${ALICE.lid.split('@')[0]}:3@lid`,
      participantAlt: ALICE.pn,
    };
    const poll = parsePollCreation(
      received(key, withSecret({ pollCreationMessage: creation(0) })),
      ME,
    );
    expect(poll).toMatchObject({
      creator: { jid: ALICE.pn, fromMe: false },
      creatorJids: [ALICE.lid, ALICE.pn],
    });
  });

  it('reads another member poll in a direct chat known only by LID: the LID is the creator', () => {
    const key = { remoteJid: ALICE.lid, fromMe: false, id: 'M2' };
    const poll = parsePollCreation(
      received(key, withSecret({ pollCreationMessageV3: creation(1) })),
      ME,
    );
    expect(poll).toMatchObject({
      chatId: ALICE.lid,
      creator: { jid: ALICE.lid, fromMe: false },
      creatorJids: [ALICE.lid],
    });
  });

  it('returns null for anything but a poll creation, and for a member poll naming no person', () => {
    expect(parsePollCreation(received(ownGroupKey, { conversation: 'hi' }), ME)).toBeNull();
    const noSender = { remoteJid: GROUP, fromMe: false, id: 'M3' };
    expect(
      parsePollCreation(received(noSender, { pollCreationMessage: creation(0) }), ME),
    ).toBeNull();
  });
});
