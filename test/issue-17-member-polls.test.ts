import { createPollMastersClient, listAllPolls } from '@pollmasters/client';
import type { PollTrackingInput } from '@pollmasters/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { countedAsLedger } from './helpers/ledger.js';
import { metricsOf, sample } from './helpers/metrics.js';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer } from './helpers/server.js';
import { worldOf } from './helpers/tracked.js';
import { sessionStatus, until } from './helpers/wait.js';

// Issue 17: polls created by the other members of the account's chats.

const SANDBOX = { voteDelayMs: { min: 10, max: 60 }, seed: 23 };
const world = worldOf(SANDBOX);
const lidGroups = world.chats.filter((c) => c.kind === 'group' && c.addressingMode === 'lid');
const pnGroup = world.chats.find((c) => c.kind === 'group' && c.addressingMode === 'pn')!;
const pnDirect = world.chats.find((c) => c.kind === 'direct' && c.addressingMode === 'pn')!;
const lidDirect = world.chats.find((c) => c.kind === 'direct' && c.addressingMode === 'lid')!;
/** The first LID group's last member: our LID mapping never learns their PN. */
const unmapped = lidGroups[0]!.members.at(-1)!;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const start = async (config: PollTrackingInput) => {
  const server = await startTestServer({ sandbox: SANDBOX, config });
  const probe = new SandboxProbe(server.sandboxChannel);
  cleanups.push(
    () => server.destroy(),
    () => probe.close(),
  );
  await sessionStatus(server.session, 'ready', 15_000);
  return { server, probe };
};

describe("other members' polls", () => {
  it("with 'all': tracked in every kind of chat, with their creator, decrypted and counted", async () => {
    const { server, probe } = await start({ trackPolls: 'all' });
    const cases = [
      { chat: lidGroups[0]!, creator: lidGroups[0]!.members[0]!, by: 'pn' },
      { chat: lidGroups[0]!, creator: unmapped, by: 'lid' },
      { chat: pnGroup, creator: pnGroup.members[1]!, by: 'pn' },
      { chat: pnDirect, creator: pnDirect.members[0]!, by: 'pn' },
      { chat: lidDirect, creator: lidDirect.members[0]!, by: 'pn' },
    ] as const;
    for (const { chat, creator, by } of cases) {
      const sent = await probe.createPoll({
        chatId: chat.id,
        creator: creator.lid,
        name: `${creator.name} asks`,
        options: ['Red', 'Green', 'Blue'],
      });
      const [{ poll, creator: expected }] = await countedAsLedger(server.session, probe, [sent.id]);
      const jid = by === 'pn' ? creator.pn : creator.lid;
      expect(expected).toEqual({ jid, fromMe: false });
      expect(poll.creator).toEqual({ jid, fromMe: false });
      expect(poll.voters.length).toBeGreaterThan(0);
    }
    const text = await metricsOf(server);
    expect(
      sample(
        text,
        'pollmasters_votes_rejected_total{session="default",reason="no_pair_authenticates"}',
      ),
    ).toBe(0);

    // tRPC tells who created each poll.
    const client = createPollMastersClient({ url: server.url });
    cleanups.push(() => client.close());
    const listed = await listAllPolls(client);
    expect(listed.map((p) => p.creator)).toEqual(
      expect.arrayContaining(cases.map(({ creator, by }) => ({ jid: creator[by], fromMe: false }))),
    );
    const one = await client.polls.get.query({ id: listed[0]!.id });
    expect(one.creator).toEqual(listed[0]!.creator);
  });

  it("with 'own': not tracked; their votes are counted as untracked_poll, not kept", async () => {
    const { server, probe } = await start({ trackPolls: 'own' });
    let untracked = 0;
    server.session.on('voteRejected', (r) => {
      if (r.reason === 'untracked_poll') untracked += 1;
    });
    const sent = await probe.createPoll({
      chatId: pnGroup.id,
      creator: pnGroup.members[0]!.pn,
      name: 'Not ours',
      options: ['Yes', 'No'],
    });
    await probe.settled([sent.id]);
    const casts = () => probe.casts.filter((c) => c.pollId === sent.id).length;
    expect(casts()).toBeGreaterThan(0);
    await until(
      server.session,
      'voteRejected',
      () => untracked === casts() || undefined,
      'untracked votes',
    );
    expect(server.session.getPoll(sent.id)).toBeUndefined();
    const text = await metricsOf(server);
    expect(
      sample(text, 'pollmasters_votes_rejected_total{session="default",reason="untracked_poll"}'),
    ).toBe(casts());
    expect(sample(text, 'pollmasters_early_votes_waiting{session="default"}')).toBe(0);
    expect(
      sample(text, 'pollmasters_votes_rejected_total{session="default",reason="unknown_poll"}'),
    ).toBe(0);
  });
});
