import { randomBytes } from 'node:crypto';
import type { WAMessage } from '@whiskeysockets/baileys';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SealedBatch, useVoteCipher } from '../src/votes/voteCipher.js';
import {
  ALICE,
  BOB,
  directKey,
  GROUP,
  groupKey,
  ME,
  makeHarness,
  OPTIONS,
  voteMessage,
} from './fixtures.js';

const CAROL = { pn: '4915100000004@s.whatsapp.net', lid: '200000000000004@lid' };
const mapping = Object.fromEntries([ALICE, BOB, CAROL].map((p) => [p.lid, p.pn]));
const POLLS = [
  { id: 'P1', chat: GROUP },
  { id: 'P2', chat: GROUP },
  { id: 'P3', chat: ALICE.pn },
];
const secrets = new Map(POLLS.map((p) => [p.id, randomBytes(32)]));

/**
 * A vote message of the batch: which poll (or one not stored), who votes, which JIDs signed it
 * (so that a chat's hinted pair is sometimes wrong), and whether it arrives tampered.
 */
const arrival = fc.record({
  poll: fc.constantFrom('P1', 'P2', 'P3', 'P9'),
  voter: fc.constantFrom(ALICE, BOB, CAROL),
  voterForm: fc.constantFrom('pn' as const, 'lid' as const),
  creatorForm: fc.constantFrom('pn' as const, 'lid' as const),
  options: fc.subarray(OPTIONS),
  timestampMs: fc.integer({ min: 1, max: 50 }),
  tampered: fc.boolean(),
  /** Not handed to `handle` (SessionPolls drops our own echoes, parks votes before their poll). */
  skipped: fc.boolean(),
});
type Arrival = typeof arrival extends fc.Arbitrary<infer T> ? T : never;

const messageOf = (a: Arrival, n: number): WAMessage => {
  const poll = POLLS.find((p) => p.id === a.poll) ?? { id: a.poll, chat: GROUP };
  const voter = poll.chat === GROUP ? a.voter : ALICE;
  const msg = voteMessage({
    id: `V${n}`,
    pollId: poll.id,
    secret: secrets.get(poll.id) ?? randomBytes(32),
    signCreator: ME[a.creatorForm],
    signVoter: voter[a.voterForm],
    key: poll.chat === GROUP ? groupKey(voter) : directKey(voter),
    options: a.options,
    timestampMs: a.timestampMs,
  });
  if (a.tampered) msg.message!.pollUpdateMessage!.vote!.encPayload![0]! ^= 0x55;
  return msg;
};

const harnesses: ReturnType<typeof makeHarness>[] = [];
afterEach(() => {
  for (const h of harnesses.splice(0)) h.close();
  useVoteCipher('auto');
  vi.restoreAllMocks();
});

/** A fresh store with the three polls, fed `messages` as one batch, with or without `openAhead`. */
const run = async (messages: WAMessage[], ahead: boolean, skipped = new Set<string>()) => {
  const h = makeHarness(mapping);
  harnesses.push(h);
  for (const p of POLLS) h.addPoll(p.id, p.chat, 2, secrets.get(p.id));
  const opens = vi.spyOn(SealedBatch.prototype, 'open');
  // In windows of 7 messages, as MessageBatches opens them (in windows of 64).
  for (let i = 0; i < messages.length; i++) {
    if (ahead && i % 7 === 0) h.processor.openAhead(messages, i, i + 7);
    if (!skipped.has(messages[i]!.key.id!)) await h.processor.handle(messages[i]!);
  }
  await h.processor.flush();
  const calls = opens.mock.calls.length;
  opens.mockRestore();
  return {
    accepted: h.accepted,
    rejected: h.rejected,
    polls: POLLS.map((p) => h.poll(p.id)),
    opens: calls,
  };
};

describe('VoteProcessor.openAhead: a batch opened in one call decides as one by one', () => {
  it('accepts, rejects and counts the same votes, in the same order', async () => {
    expect(useVoteCipher('auto').name).toBe('native');
    let batched = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(arrival, { minLength: 2, maxLength: 40 }), async (arrivals) => {
        const messages = () => arrivals.map(messageOf);
        // The same votes (same ivs: encrypted once, copied), fed to two fresh stores.
        const once = messages();
        const copy = () => structuredClone(once);
        const skipped = new Set(once.filter((_, i) => arrivals[i]!.skipped).map((m) => m.key.id!));
        const alone = await run(copy(), false, skipped);
        const ahead = await run(copy(), true, skipped);
        expect(ahead.accepted).toEqual(alone.accepted);
        expect(ahead.rejected).toEqual(alone.rejected);
        expect(ahead.polls).toEqual(alone.polls);
        // Opened in one call, with single opens only for votes whose first pair failed.
        if (ahead.opens < alone.opens) batched++;
      }),
      { numRuns: 60 },
    );
    expect(batched).toBeGreaterThan(30);
  });

  it('does nothing with node:crypto, where a batch would save nothing', async () => {
    useVoteCipher('node');
    const messages = [0, 1, 2].map((n) =>
      messageOf(
        {
          poll: 'P1',
          voter: ALICE,
          voterForm: 'lid',
          creatorForm: 'lid',
          options: ['Pizza'],
          timestampMs: 5,
          tampered: false,
          skipped: false,
        },
        n,
      ),
    );
    const alone = await run(structuredClone(messages), false);
    const ahead = await run(structuredClone(messages), true);
    expect(ahead.opens).toBe(alone.opens);
    expect(ahead.polls).toEqual(alone.polls);
  });
});
