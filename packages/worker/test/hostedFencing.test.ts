import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { SessionOpen, type WorkerEvent } from '@pollmasters/shared/node';
import { pino } from 'pino';
import { afterAll, expect, it, vi } from 'vitest';
import { pgTestDatabase } from '../../../test/helpers/pgTestDatabase.js';
import { openHostedSession } from '../src/hostedSession.js';
import { createSandbox, SandboxProbe } from '../src/sandbox/index.js';
import { Checkpointer } from '../src/store/checkpointer.js';
import { PgPools } from '../src/store/pg/pgPools.js';
import { openPgStore } from '../src/store/sessionStore.js';
import { tempDirs } from './fixtures.js';

// Decision 2 of issue #22: a session opened under a fencing token stops, storing and announcing
// nothing more (its sends, its members' votes), once a newer owner has installed its own.

const tempDir = tempDirs('pollmasters-fencing-');
const database = pgTestDatabase('hostedfencing');
const pools = new PgPools(2);
afterAll(() => pools.end());

/** Its sandbox world: where it is kept (a new one unless given) and its network's options. */
interface World {
  dir?: string;
  channelName?: string;
  autoVote?: boolean;
  ackDelayMs?: number;
}

const host = (sessionId: string, fence: number, world: World = {}) => {
  const lines: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  const events: WorkerEvent[] = [];
  const {
    dir = tempDir(),
    channelName = `fencing-${randomBytes(4).toString('hex')}`,
    ...network
  } = world;
  const open = SessionOpen.parse({
    dataDir: dir,
    sandbox: { qrScanDelayMs: 20, stateDir: `${dir}/sandbox`, channelName, ...network },
    databaseUrl: database.url,
    fence,
  });
  const opening = openHostedSession(open, {
    sessionId,
    emit: (e) => events.push(e),
    logger,
    makeSocket: () => Promise.reject(new Error('sandbox only')),
    checkpointer: new Checkpointer(logger),
    pgPools: pools,
  });
  return { opening, events, lines, dir, channelName };
};

it('refuses to open under an older token, and stops writing once a newer owner takes over', async () => {
  const first = host('fenced', 3);
  const hosted = await first.opening;
  try {
    await vi.waitFor(() => expect(hosted.session.snapshot.status).toBe('ready'), {
      timeout: 10_000,
    });
    const [chat] = await hosted.session.listChats();
    const poll = {
      chatId: chat!.id,
      question: 'Still ours?',
      options: ['Yes', 'No'],
      selectableCount: 1,
    };
    await hosted.session.sendPoll(poll);
    expect(first.events.filter((e) => e.type === 'pollSent')).toHaveLength(1);

    // An older owner cannot open it.
    await expect(host('fenced', 2).opening).rejects.toThrow(/lease lost/);

    // A newer owner installs its token: our next write rolls back, and the session stops.
    const next = await openPgStore(pools, database.url, {
      sessionId: 'fenced',
      fence: 4,
      logger: pino({ level: 'silent' }),
    });
    await expect(hosted.session.sendPoll(poll)).rejects.toThrow(/lease lost/);
    expect(first.events.filter((e) => e.type === 'pollSent')).toHaveLength(1);
    expect(first.lines.join('')).toContain('lease lost: another node owns the session now');
    expect(first.events.filter((e) => e.type === 'fenced')).toHaveLength(1);
    // The API hears it: the session is disconnected, and why.
    expect(first.events.at(-1)).toEqual({
      type: 'status',
      status: 'disconnected',
      detail: 'lease lost',
    });
    await expect(hosted.session.sendPoll(poll)).rejects.toMatchObject({ code: 'NOT_READY' });
    expect(next.polls.size).toBe(1);
    await next.close();
  } finally {
    await hosted.close();
  }
});

it('refuses the votes that come once a newer owner took over: none is stored nor announced, and the next owner counts them once', async () => {
  // The members vote when told to; an acknowledgement takes 1 s to reach WhatsApp, so a vote
  // whose connection ends before that is delivered again on the next login.
  const network = { autoVote: false, ackDelayMs: 1_000 };
  const first = host('fenced-votes', 7, network);
  const probe = new SandboxProbe(first.channelName);
  const hosted = await first.opening;
  // Its people and chats: a network with the same (default) seed has the same.
  const twin = createSandbox({ channelName: `twin-${first.channelName}` });
  twin.close();
  const group = twin.world.chats.find((c) => c.kind === 'group')!;
  const [ana, ben] = group.members;
  const announced = () =>
    first.events.flatMap((e) => (e.type === 'votes' ? e.changes.map((c) => c.voter) : []));
  const logged = async () =>
    (
      await database.admin.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM vote_log WHERE session_id = 'fenced-votes'",
      )
    ).rows[0]!.n;
  try {
    await vi.waitFor(() => expect(hosted.session.snapshot.status).toBe('ready'), {
      timeout: 10_000,
    });
    const poll = await hosted.session.sendPoll({
      chatId: group.id,
      question: 'Who holds the lease?',
      options: ['Us', 'Them'],
      selectableCount: 1,
    });
    const kept = await probe.vote(poll.id, ana!.pn, ['Us']);
    await vi.waitFor(() => expect(announced()).toEqual([kept.voterId]));
    await probe.settled([poll.id]);
    expect(await logged()).toBe(1);

    // Another node takes the session over: its store installs the next token.
    await (
      await openPgStore(pools, database.url, {
        sessionId: 'fenced-votes',
        fence: 8,
        logger: pino({ level: 'silent' }),
      })
    ).close();
    const late = await probe.vote(poll.id, ben!.pn, ['Them']);
    await vi.waitFor(() =>
      expect(first.events.at(-1)).toEqual({
        type: 'status',
        status: 'disconnected',
        detail: 'lease lost',
      }),
    );
    // Its commit was refused, said so once (a warning: the batch and the closing flush that
    // met the refusal say nothing more), and not tried again: nothing of it stored nor announced.
    const said = first.lines.map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(said.filter((l) => l.msg.includes('lease lost'))).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'lease lost: another node owns the session now; its writes here are refused and it stops',
      }),
    ]);
    expect(said.filter((l) => l.level >= 50)).toEqual([]);
    expect(said.map((l) => l.msg)).not.toContain('votes not stored; retrying');
    // The API hears of it once, for its metrics.
    expect(first.events.filter((e) => e.type === 'fenced')).toHaveLength(1);
    expect(announced()).toEqual([kept.voterId]);
    expect(await logged()).toBe(1);
    await hosted.close();

    // The next owner logs in on the same account: the vote, never acknowledged (its connection
    // ended first), comes again, and counts once.
    const second = host('fenced-votes', 8, {
      ...network,
      dir: first.dir,
      channelName: first.channelName,
    });
    const next = await second.opening;
    try {
      await probe.settled([poll.id]);
      await vi.waitFor(() => expect(second.events.some((e) => e.type === 'votes')).toBe(true));
      const voters = next.session.snapshot.polls[0]!.voters.map((v) => v.voter);
      expect(voters.sort()).toEqual([kept.voterId, late.voterId].sort());
      expect(probe.redelivered).toContain(late.messageId);
      expect(await logged()).toBe(2);
    } finally {
      await next.close();
    }
  } finally {
    await hosted.close();
    probe.close();
  }
});
