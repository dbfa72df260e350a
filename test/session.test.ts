import type { Poll, SessionState } from '@pollmasters/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { countedAsLedger } from './helpers/ledger.js';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sessionStatus, until } from './helpers/wait.js';

// Issue 3: the worker, the sandbox and the supervisor together, through the real worker
// thread and a real SQLite file in a temp dir.

const servers: TestServer[] = [];
const probes: SandboxProbe[] = [];
afterEach(async () => {
  for (const p of probes.splice(0)) p.close();
  for (const s of servers.splice(0)) await s.destroy();
});

const fastVotes = { voteDelayMs: { min: 5, max: 60 }, seed: 7 };

const start = async (dataDir?: string) => {
  const server = await startTestServer({ sandbox: fastVotes, ...(dataDir ? { dataDir } : {}) });
  servers.push(server);
  const probe = new SandboxProbe(server.sandboxChannel);
  probes.push(probe);
  return { server, probe };
};

/** Waits, on the session's events, until `check` holds. */
const waitFor = (
  server: TestServer,
  event: 'state' | 'pollsUpdated' | 'workerExit',
  what: string,
  check: () => boolean | undefined,
) => until(server.session, event, () => check() || undefined, what, 15_000);

const waitForStatus = (server: TestServer, status: SessionState['status']) =>
  sessionStatus(server.session, status, 15_000);

describe('session worker against the sandbox', () => {
  it('QR -> ready -> chats -> send polls -> every cast vote counted; survives restart and a killed worker', async () => {
    const { server, probe } = await start();
    await waitForStatus(server, 'ready');

    // Chats: groups and direct chats, named, sorted by name.
    const chats = await server.session.listChats();
    expect(chats.some((c) => c.isGroup)).toBe(true);
    expect(chats.some((c) => !c.isGroup)).toBe(true);
    const names = chats.map((c) => c.name);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));

    // One poll to every chat, single and multi choice alternating: this covers LID groups,
    // the PN group, PN direct chats and the LID direct chat (every signing combination).
    const sent: Poll[] = [];
    for (const [i, chat] of chats.entries()) {
      sent.push(
        await server.session.sendPoll({
          chatId: chat.id,
          question: `Where do we meet? #${i}`,
          options: ['Cafe', 'Park', 'Library'],
          selectableCount: i % 2,
        }),
      );
    }
    const ids = sent.map((p) => p.id);
    // The echo (`append`) of each sent poll is not a second poll.
    expect(
      server.session
        .listPolls()
        .map((p) => p.id)
        .sort(),
    ).toEqual([...ids].sort());

    const counted = (await countedAsLedger(server.session, probe, ids)).map((c) => c.poll);
    const totalVoters = counted.reduce((n, p) => n + p.voters.length, 0);
    expect(totalVoters).toBeGreaterThan(10);
    // The sandbox's redeliveries and stale votes were seen and not counted twice.
    expect(probe.casts.some((c) => c.redelivery)).toBe(true);

    // Stop and start the whole server on the same data dir: same results ...
    const before = server.session.listPolls();
    await server.stop();
    const again = await start(server.dataDir);
    await waitForStatus(again.server, 'ready');
    expect(again.server.session.listPolls()).toEqual(before);

    // ... and a new vote on an old poll still decrypts (its secret was stored).
    const oldPoll = before.find((p) => p.chatId.endsWith('@g.us'))!;
    const member = probe.casts.find((c) => c.pollId === oldPoll.id)!;
    const cast = await again.probe.vote(oldPoll.id, member.voterLid, ['Library']);
    await waitFor(again.server, 'pollsUpdated', 'the new vote on the old poll', () => {
      const voter = again.server.session
        .getPoll(oldPoll.id)
        ?.voters.find((v) => v.voter === cast.voterId);
      return voter?.selected.length === 1 && voter.timestampMs === cast.senderTimestampMs;
    });

    // Kill the worker thread: it comes back, nothing stored is lost, votes still count.
    const beforeKill = again.server.session.listPolls();
    await again.server.session.killWorker();
    await waitFor(
      again.server,
      'workerExit',
      'the worker restart',
      () => again.server.session.workerRestarts === 1,
    );
    await waitForStatus(again.server, 'ready');
    expect(again.server.session.listPolls()).toEqual(beforeKill);
    const late = await again.probe.vote(oldPoll.id, member.voterLid, ['Cafe']);
    await waitFor(again.server, 'pollsUpdated', 'a vote after the worker restart', () =>
      again.server.session
        .getPoll(oldPoll.id)
        ?.voters.some((v) => v.voter === late.voterId && v.timestampMs === late.senderTimestampMs),
    );
    await countedAsLedger(again.server.session, again.probe, ids);
  });

  it('logout wipes the session and offers a fresh QR without a restart; polls stay', async () => {
    const { server } = await start();
    await waitForStatus(server, 'ready');
    const [chat] = await server.session.listChats();
    const poll = await server.session.sendPoll({
      chatId: chat!.id,
      question: 'Stay?',
      options: ['Yes', 'No'],
      selectableCount: 1,
    });
    const states: SessionState[] = [];
    server.session.on('state', (s) => states.push(s));
    await server.session.logout();
    await waitFor(server, 'state', 'a fresh QR', () =>
      states.some((s) => s.status === 'qr_pending' && s.qr),
    );
    expect(states.map((s) => s.status)).toContain('logged_out');
    expect(server.session.getPoll(poll.id)).toBeDefined();
    // The sandbox scans the new QR: ready again, as a fresh login.
    await waitForStatus(server, 'ready');
  });

  it('a dropped connection reconnects by itself', async () => {
    const { server, probe } = await start();
    await waitForStatus(server, 'ready');
    const states: string[] = [];
    server.session.on('state', (s) => states.push(s.status));
    probe.dropConnection();
    await waitFor(server, 'state', 'disconnected', () => states.includes('disconnected'));
    await waitForStatus(server, 'ready');
  });
});
