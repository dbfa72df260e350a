import { tallyPoll } from '@pollmasters/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { ALICE, BOB, GROUP, groupKey, hashes, ME, makeHarness, voteMessage } from './fixtures.js';

let h: ReturnType<typeof makeHarness>;
afterEach(() => h?.close());

const vote = (
  secret: Uint8Array,
  who: { pn: string; lid: string },
  options: string[],
  timestampMs: number,
  extra: { withAlt?: boolean; signVoter?: string; id?: string; pollId?: string } = {},
) =>
  h.vote(
    voteMessage({
      pollId: extra.pollId ?? 'P',
      secret,
      signCreator: ME.lid,
      signVoter: extra.signVoter ?? who.lid,
      key: groupKey(who, extra.withAlt ?? true),
      options,
      timestampMs,
      ...(extra.id ? { id: extra.id } : {}),
    }),
  );

describe('vote aggregation', () => {
  it('a changed vote replaces the earlier selection', async () => {
    h = makeHarness();
    const secret = h.addPoll('P', GROUP);
    await vote(secret, ALICE, ['Pizza'], 1000);
    await vote(secret, ALICE, ['Salad'], 2000);
    expect(tallyPoll(h.poll('P'))).toEqual({ Pizza: 0, Pasta: 0, Salad: 1 });
    expect(h.accepted.map((c) => c.version)).toEqual([1, 2]);
  });

  it('an empty vote withdraws it', async () => {
    h = makeHarness();
    const secret = h.addPoll('P', GROUP);
    await vote(secret, ALICE, ['Pizza'], 1000);
    await vote(secret, BOB, ['Pizza'], 1000);
    await vote(secret, ALICE, [], 2000);
    const poll = h.poll('P');
    expect(poll.voters.map((v) => v.voter)).toEqual([BOB.pn]);
    expect(tallyPoll(poll)).toEqual({ Pizza: 1, Pasta: 0, Salad: 0 });
    expect(h.accepted.at(-1)).toMatchObject({ voter: ALICE.pn, selected: [] });
  });

  it('an older vote than the stored one is ignored, and said so', async () => {
    h = makeHarness();
    const secret = h.addPoll('P', GROUP);
    await vote(secret, ALICE, ['Salad'], 2000);
    await vote(secret, ALICE, ['Pizza'], 1000);
    expect(h.poll('P').voters.map((v) => v.selected)).toEqual([hashes('Salad')]);
    expect(h.rejected).toEqual([expect.objectContaining({ reason: 'stale', pollId: 'P' })]);
    // A withdrawal is remembered too: an older vote after it does not come back.
    await vote(secret, ALICE, [], 3000);
    await vote(secret, ALICE, ['Pasta'], 2500);
    expect(h.poll('P').voters).toEqual([]);
  });

  it('the same vote delivered twice counts once and is not an error', async () => {
    h = makeHarness();
    const secret = h.addPoll('P', GROUP);
    await vote(secret, ALICE, ['Pizza'], 1000, { id: 'SAME' });
    await vote(secret, ALICE, ['Pizza'], 1000, { id: 'SAME' });
    expect(h.accepted).toHaveLength(1);
    expect(h.rejected).toEqual([]);
  });

  it('counts the same person once, through LID and then PN', async () => {
    h = makeHarness();
    const secret = h.addPoll('P', GROUP);
    // First vote: only the LID is known, so it is stored under the LID.
    await vote(secret, ALICE, ['Pizza'], 1000, { withAlt: false });
    expect(h.poll('P').voters.map((v) => v.voter)).toEqual([ALICE.lid]);
    // WhatsApp then tells us the mapping; the next vote (signed with the PN) replaces it.
    h.lidToPn.set(ALICE.lid, ALICE.pn);
    await vote(secret, ALICE, ['Pasta'], 2000, { signVoter: ALICE.pn });
    const poll = h.poll('P');
    expect(poll.voters.map((v) => [v.voter, v.selected])).toEqual([[ALICE.pn, hashes('Pasta')]]);
    expect(tallyPoll(poll)).toEqual({ Pizza: 0, Pasta: 1, Salad: 0 });
    // Readers are told that the LID entry is gone, in a change of its own.
    expect(h.accepted.slice(-2).map((c) => [c.voter, c.selected.length])).toEqual([
      [ALICE.lid, 0],
      [ALICE.pn, 1],
    ]);
    expect(new Set(h.accepted.map((c) => c.version)).size).toBe(h.accepted.length);
    // Stored that way: after a restart the person is still counted once.
    h.reopen();
    expect(h.poll('P').voters.map((v) => v.voter)).toEqual([ALICE.pn]);
  });

  it('remembers a mapping miss only until the mapping changes', async () => {
    h = makeHarness();
    const secret = h.addPoll('P', GROUP);
    await vote(secret, ALICE, ['Pizza'], 1000, { withAlt: false });
    h.lidToPn.set(ALICE.lid, ALICE.pn);
    // The miss is still believed (no lookup per vote): the LID again.
    await vote(secret, ALICE, ['Pasta'], 2000, { withAlt: false });
    expect(h.poll('P').voters.map((v) => v.voter)).toEqual([ALICE.lid]);
    // WhatsApp announces a mapping change: the next vote asks again, and the PN takes over.
    h.processor.mappingChanged();
    await vote(secret, ALICE, ['Salad'], 3000, { withAlt: false });
    const poll = h.poll('P');
    expect(poll.voters.map((v) => [v.voter, v.selected])).toEqual([[ALICE.pn, hashes('Salad')]]);
    expect(tallyPoll(poll)).toEqual({ Pizza: 0, Pasta: 0, Salad: 1 });
  });

  it('multi select counts every selected option', async () => {
    h = makeHarness();
    const secret = h.addPoll('P', GROUP, 0);
    await vote(secret, ALICE, ['Pizza', 'Salad'], 1000);
    await vote(secret, BOB, ['Salad'], 1000);
    expect(tallyPoll(h.poll('P'))).toEqual({ Pizza: 1, Pasta: 0, Salad: 2 });
  });

  it('keeps every accepted vote across a restart', async () => {
    h = makeHarness();
    const secret = h.addPoll('P', GROUP, 0);
    await vote(secret, ALICE, ['Pizza', 'Pasta'], 1000);
    await vote(secret, BOB, ['Salad'], 1000);
    const before = h.poll('P');
    h.reopen();
    expect(h.poll('P')).toEqual(before);
  });
});
