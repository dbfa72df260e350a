import type { EarlyVoteReport, PollTrackingInput } from '@pollmasters/shared';
import { expectedFrom } from '@pollmasters/worker/sandbox';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countedAsLedger } from './helpers/ledger.js';
import { metricsOf, sample } from './helpers/metrics.js';
import { pgTestDatabase } from './helpers/pgTestDatabase.js';
import { normalizeExpected, SandboxProbe, votersByName } from './helpers/sandbox.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { worldOf } from './helpers/tracked.js';
import { eventually, sessionStatus, until } from './helpers/wait.js';

// Issue 17: votes that come before their poll wait for it (in SQLite), bounded in number and
// age; they are rejected as unknown_poll only when given up.

const SANDBOX = { voteDelayMs: { min: 10, max: 60 }, seed: 31, membersPerGroup: 6 };
const world = worldOf(SANDBOX);
const group = world.chats.find((c) => c.kind === 'group' && c.addressingMode === 'lid')!;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Issue #22: the store of the servers started, when not SQLite. */
let databaseUrl: string | undefined;

const start = async (config: PollTrackingInput = {}, dataDir?: string) => {
  const server = await startTestServer({
    sandbox: SANDBOX,
    config: { ...config, ...(databaseUrl ? { databaseUrl } : {}) },
    ...(dataDir ? { dataDir } : {}),
  });
  const probe = new SandboxProbe(server.sandboxChannel);
  // A restarted server's data dir is removed with the first server's.
  cleanups.push(
    () => (dataDir ? server.stop() : server.destroy()),
    () => probe.close(),
  );
  await sessionStatus(server.session, 'ready', 15_000);
  return { server, probe };
};

/** Early-vote reports as the session received them. */
const reports = (server: TestServer) => {
  const seen: EarlyVoteReport[] = [];
  server.session.on('earlyVotes', (r) => seen.push(r));
  return {
    seen,
    expired: (cause: 'age' | 'limit') => seen.reduce((n, r) => n + r.expired[cause], 0),
  };
};

/**
 * A poll created on the phone whose delivery is held back while the members vote: waits until
 * every vote was delivered (and so is waiting); returns the poll and how many votes came.
 */
const pollAfterItsVotes = async (probe: SandboxProbe) => {
  const sent = await probe.createPoll({
    chatId: group.id,
    name: 'Which came first?',
    options: ['Egg', 'Chicken', 'Neither'],
    hold: true,
  });
  await probe.settled([sent.id]);
  const casts = probe.casts.filter((c) => c.pollId === sent.id);
  expect(casts.length).toBeGreaterThan(group.members.length - 1);
  return { sent, casts };
};

const waiting = async (server: TestServer) =>
  sample(await metricsOf(server), 'pollmasters_early_votes_waiting{session="default"}');

describe.each(['sqlite', 'postgres'] as const)('on %s', (engine) => {
  // A database per test, as a data dir per test; dropped once the test's servers stopped
  // (this describe's hook runs before the database's).
  const database = engine === 'postgres' ? pgTestDatabase('earlyvotes', 'test') : undefined;
  beforeEach(() => {
    databaseUrl = database?.url;
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    databaseUrl = undefined;
  });

  it('wait for their poll, and are counted once it arrives', async () => {
    const { server, probe } = await start();
    const { sent, casts } = await pollAfterItsVotes(probe);
    await eventually(
      'every early vote waiting',
      async () => (await waiting(server)) === casts.length,
    );
    expect(server.session.getPoll(sent.id)).toBeUndefined();

    await probe.releasePoll(sent.id);
    const [{ poll }] = await countedAsLedger(server.session, probe, [sent.id]);
    expect(poll.voters.length).toBeGreaterThan(0);
    const text = await metricsOf(server);
    expect(sample(text, 'pollmasters_early_votes_waiting{session="default"}')).toBe(0);
    expect(
      sample(text, 'pollmasters_votes_rejected_total{session="default",reason="unknown_poll"}'),
    ).toBe(0);
    expect(
      sample(text, 'pollmasters_early_votes_expired_total{session="default",cause="age"}'),
    ).toBe(0);
  });

  it('survive a crash of the worker and a restart of the server before their poll comes', async () => {
    const first = await start();
    const { sent, casts } = await pollAfterItsVotes(first.probe);
    await eventually(
      'every early vote waiting',
      async () => (await waiting(first.server)) === casts.length,
    );

    // The worker dies abruptly; the supervisor starts it again on the same database.
    await first.server.session.killWorker();
    const session = first.server.session;
    await eventually(
      'the worker running and logged in again',
      () => session.workerState === 'running' && session.sessionState.status === 'ready',
    );
    expect(await waiting(first.server)).toBe(casts.length);

    // Then the whole server stops and starts again.
    await first.server.stop();
    const { server, probe } = await start({}, first.server.dataDir);
    await eventually(
      'the early votes still waiting',
      async () => (await waiting(server)) === casts.length,
    );
    expect(server.session.getPoll(sent.id)).toBeUndefined();

    await probe.releasePoll(sent.id);
    await countedAsLedger(server.session, probe, [sent.id]);
    expect(await waiting(server)).toBe(0);
  });
});

it('are given up as unknown_poll once they waited their age, and counted in /metrics', async () => {
  const { server, probe } = await start({ earlyVoteMaxAgeSec: 1 });
  const seen = reports(server);
  const { sent, casts } = await pollAfterItsVotes(probe);
  // The expiry timer fires for each in turn: wait on its reports, not on a clock.
  await until(
    server.session,
    'earlyVotes',
    () => seen.expired('age') === casts.length || undefined,
    'every early vote expired',
  );
  const text = await metricsOf(server);
  expect(sample(text, 'pollmasters_early_votes_expired_total{session="default",cause="age"}')).toBe(
    casts.length,
  );
  expect(
    sample(text, 'pollmasters_votes_rejected_total{session="default",reason="unknown_poll"}'),
  ).toBe(casts.length);
  expect(sample(text, 'pollmasters_early_votes_waiting{session="default"}')).toBe(0);

  // Too late: the poll is tracked, with none of the given-up votes.
  await probe.releasePoll(sent.id);
  await until(server.session, 'pollSent', () => server.session.getPoll(sent.id), 'the poll');
  expect(server.session.getPoll(sent.id)!.voters).toEqual([]);
});

it('beyond the limit, the oldest are given up as unknown_poll; the newest are counted', async () => {
  const { server, probe } = await start({ earlyVotesMax: 3 });
  const seen = reports(server);
  const { sent, casts } = await pollAfterItsVotes(probe);
  await until(
    server.session,
    'earlyVotes',
    () => seen.expired('limit') === casts.length - 3 || undefined,
    'the oldest given up',
  );
  const text = await metricsOf(server);
  expect(
    sample(text, 'pollmasters_early_votes_expired_total{session="default",cause="limit"}'),
  ).toBe(casts.length - 3);
  expect(
    sample(text, 'pollmasters_votes_rejected_total{session="default",reason="unknown_poll"}'),
  ).toBe(casts.length - 3);
  expect(sample(text, 'pollmasters_early_votes_waiting{session="default"}')).toBe(3);

  await probe.releasePoll(sent.id);
  const poll = await until(
    server.session,
    'pollsUpdated',
    () => {
      const p = server.session.getPoll(sent.id);
      return p && p.version > 0 ? p : undefined;
    },
    'the kept votes counted',
  );
  // What the three newest votes alone make, as a correct count replays them.
  expect(votersByName(poll)).toEqual(normalizeExpected(poll, expectedFrom(casts.slice(-3))));
  // The gauge follows the worker's next report, which may come after the poll's update.
  await eventually('no early vote left waiting', async () => (await waiting(server)) === 0);
});
