import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { SessionOpen, type WorkerEvent } from '@pollmasters/shared/node';
import { pino } from 'pino';
import { afterAll, expect, it, vi } from 'vitest';
import { pgTestDatabase } from '../../../test/helpers/pgTestDatabase.js';
import { openHostedSession } from '../src/hostedSession.js';
import { Checkpointer } from '../src/store/checkpointer.js';
import { PgPools } from '../src/store/pg/pgPools.js';
import { openPgStore } from '../src/store/sessionStore.js';
import { tempDirs } from './fixtures.js';

// Decision 2 of issue #22: a session opened under a fencing token stops, storing and announcing
// nothing more, once a newer owner has installed its own.

const tempDir = tempDirs('pollmasters-fencing-');
const database = pgTestDatabase('hostedfencing');
const pools = new PgPools(2);
afterAll(() => pools.end());

const host = (sessionId: string, fence: number) => {
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
  const dir = tempDir();
  const open = SessionOpen.parse({
    dataDir: dir,
    sandbox: {
      qrScanDelayMs: 20,
      stateDir: `${dir}/sandbox`,
      channelName: `fencing-${randomBytes(4).toString('hex')}`,
    },
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
  return { opening, events, lines };
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
    expect(first.lines.join('')).toContain('lease lost; session stops');
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
