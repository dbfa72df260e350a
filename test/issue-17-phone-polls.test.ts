import type { PollTrackingInput } from '@pollmasters/shared';
import { createSandbox } from '@pollmasters/worker/sandbox';
import { afterEach, describe, expect, it } from 'vitest';
import { sessionPaths } from './helpers/dataDir.js';
import { countedAsLedger } from './helpers/ledger.js';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer } from './helpers/server.js';
import { worldOf } from './helpers/tracked.js';
import { sessionStatus, until } from './helpers/wait.js';

// Issue 17: the polls the account creates on its phone (or another linked device), live, while
// PollMasters is down, and in the history sync of the first login; and members' polls there.

const SANDBOX = { voteDelayMs: { min: 10, max: 60 }, seed: 17 };
const world = worldOf(SANDBOX);
const lidGroup = world.chats.find((c) => c.kind === 'group' && c.addressingMode === 'lid')!;
const directChat = world.chats.find((c) => c.kind === 'direct' && c.addressingMode === 'pn')!;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const start = async (
  options: { sandbox?: object; config?: PollTrackingInput; dataDir?: string } = {},
) => {
  const server = await startTestServer({
    sandbox: { ...SANDBOX, ...options.sandbox },
    config: options.config ?? {},
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });
  const probe = new SandboxProbe(server.sandboxChannel);
  // A restarted server's data dir is removed with the first server's.
  cleanups.push(
    () => (options.dataDir ? server.stop() : server.destroy()),
    () => probe.close(),
  );
  await sessionStatus(server.session, 'ready', 15_000);
  return { server, probe };
};

const own = { jid: world.me.pn, fromMe: true };

describe('polls created on the phone', () => {
  it('arrive live and are counted like polls sent through the API', async () => {
    const { server, probe } = await start();
    for (const chat of [lidGroup, directChat]) {
      const sent = await probe.createPoll({
        chatId: chat.id,
        name: `From the phone in ${chat.name}?`,
        options: ['Yes', 'No', 'Later'],
        selectableCount: 1,
      });
      const [{ poll, creator }] = await countedAsLedger(server.session, probe, [sent.id]);
      expect(poll).toMatchObject({ chatId: chat.id, question: sent.name, selectableCount: 1 });
      expect(poll.creator).toEqual(own);
      expect(creator).toEqual(own);
      expect(poll.voters.length).toBeGreaterThan(0);
    }
  });

  it('created while PollMasters was down arrive on the next login, and their votes count', async () => {
    const first = await start();
    const { dataDir } = first.server;
    await first.server.stop();

    // The phone is not down: while the server is, it creates a poll that WhatsApp holds for us.
    const phone = createSandbox({
      ...SANDBOX,
      stateDir: sessionPaths(dataDir).sandbox,
      autoVote: false,
      channelName: `phone-${process.pid}-${Date.now()}`,
    });
    const sent = phone.createPoll({
      chatId: lidGroup.id,
      name: 'Made offline?',
      options: ['A', 'B'],
    });
    phone.close();

    const { server, probe } = await start({ dataDir });
    const stored = await until(
      server.session,
      'pollSent',
      () => server.session.getPoll(sent.id),
      'the poll made while down',
      15_000,
    );
    expect(stored.creator).toEqual(own);
    const [a, b] = lidGroup.members;
    await probe.vote(sent.id, a!.pn, ['A']);
    await probe.vote(sent.id, b!.lid, ['B']);
    const [{ poll }] = await countedAsLedger(server.session, probe, [sent.id]);
    expect(poll.voters).toHaveLength(2);
  });
});

describe('the history sync of the first login', () => {
  it("brings the phone's polls with the votes it had counted, and with 'all' the members' polls", async () => {
    const { server, probe } = await start({
      sandbox: { historyPolls: 4 },
      config: { trackPolls: 'all' },
    });
    const { creators } = await probe.ledger();
    const ids = Object.keys(creators);
    expect(ids).toHaveLength(4);
    expect(Object.values(creators).filter((c) => c.fromMe)).toHaveLength(2);
    for (const id of ids) {
      const [{ poll, creator }] = await countedAsLedger(server.session, probe, [id]);
      expect(poll.creator).toEqual(creator);
    }
    // Not an empty past: the ledger's votes were there to count.
    const voters = ids.map((id) => server.session.getPoll(id)!.voters.length);
    expect(voters.reduce((a, b) => a + b)).toBeGreaterThan(4);
    // The account's own votes from the phone are among them, counted once under its PN.
    expect(
      ids.some((id) => server.session.getPoll(id)!.voters.some((v) => v.voter === own.jid)),
    ).toBe(true);
  });

  it("with 'own', brings only the account's polls, and they stay across a restart", async () => {
    const first = await start({ sandbox: { historyPolls: 4 } });
    const { creators } = await first.probe.ledger();
    const mine = Object.keys(creators).filter((id) => creators[id]!.fromMe);
    await countedAsLedger(first.server.session, first.probe, mine);
    const listed = () =>
      first.server.session
        .listPolls()
        .map((p) => p.id)
        .sort();
    expect(listed()).toEqual([...mine].sort());

    const { dataDir } = first.server;
    await first.server.stop();
    const again = await start({ dataDir, sandbox: { historyPolls: 4 } });
    await countedAsLedger(again.server.session, again.probe, mine);
    expect(
      again.server.session
        .listPolls()
        .map((p) => p.id)
        .sort(),
    ).toEqual([...mine].sort());
  });
});
