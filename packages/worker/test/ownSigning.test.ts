import { describe, expect, it } from 'vitest';
import { ownVoteSigning } from '../src/votes/ownSigning.js';
import { ALICE, ME } from './fixtures.js';

const ours = [ME.pn, ME.lid];

describe('ownVoteSigning', () => {
  it('signs as our LID on our poll in a LID-addressed chat', () => {
    expect(ownVoteSigning({ creatorJids: ours, me: ME, lidAddressed: true })).toEqual({
      creatorJid: ME.lid,
      voterJid: ME.lid,
    });
  });

  it('signs as our PN on our poll in a PN-addressed chat', () => {
    expect(ownVoteSigning({ creatorJids: ours, me: ME, lidAddressed: false })).toEqual({
      creatorJid: ME.pn,
      voterJid: ME.pn,
    });
  });

  it('uses our LID as the creator even if the poll was stored before we knew it', () => {
    expect(ownVoteSigning({ creatorJids: [ME.pn], me: ME, lidAddressed: true })).toEqual({
      creatorJid: ME.lid,
      voterJid: ME.lid,
    });
  });

  it('takes the creator form that authenticated the chat last (the pair hint)', () => {
    // The members of a PN-addressed chat sign with our LID as the creator: so will we.
    const hint = { creatorIndex: 1, voterSource: 'participant' };
    expect(ownVoteSigning({ creatorJids: ours, me: ME, lidAddressed: false, hint })).toEqual({
      creatorJid: ME.lid,
      voterJid: ME.pn,
    });
  });

  it("follows our own phone's voter form when the last vote in the chat was ours", () => {
    const hint = { creatorIndex: 0, voterSource: 'me:pn' };
    expect(ownVoteSigning({ creatorJids: ours, me: ME, lidAddressed: true, hint })).toEqual({
      creatorJid: ME.pn,
      voterJid: ME.pn,
    });
  });

  it("signs another member's poll with the creator's form that matches the addressing", () => {
    const creatorJids = [ALICE.pn, ALICE.lid];
    expect(ownVoteSigning({ creatorJids, me: ME, lidAddressed: true })).toEqual({
      creatorJid: ALICE.lid,
      voterJid: ME.lid,
    });
    expect(ownVoteSigning({ creatorJids, me: ME, lidAddressed: false })).toEqual({
      creatorJid: ALICE.pn,
      voterJid: ME.pn,
    });
  });

  it('falls back to our PN without a LID, and gives up without any JID of ours', () => {
    expect(ownVoteSigning({ creatorJids: [ME.pn], me: { pn: ME.pn }, lidAddressed: true })).toEqual(
      { creatorJid: ME.pn, voterJid: ME.pn },
    );
    expect(ownVoteSigning({ creatorJids: ours, me: {}, lidAddressed: true })).toBeNull();
  });
});
