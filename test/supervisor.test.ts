import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PoolWorker, SessionService } from '@pollmasters/api';
import { PollTracking } from '@pollmasters/shared';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { sessionStatus, until } from './helpers/wait.js';

// The supervisor in packages/api: a worker that fails at start is reported, not respawned in
// a loop; one that keeps crashing is restarted with growing delays.

const dirs: string[] = [];
const sessions: SessionService[] = [];
const workers: PoolWorker[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.stop();
  for (const w of workers.splice(0)) await w.stop(1_000);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const makeSession = (options: { baileysModule?: string; sandbox?: Record<string, unknown> }) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pollmasters-supervisor-'));
  dirs.push(dataDir);
  const logger = pino({ level: 'silent' });
  const worker = new PoolWorker({
    worker: { logLevel: 'silent', ...(options.baileysModule ? options : {}) },
    logger,
    backoffMs: 100,
    maxBackoffMs: 5_000,
  });
  workers.push(worker);
  const session = new SessionService({
    sessionId: 'default',
    open: {
      dataDir,
      tracking: PollTracking.parse({}),
      ...(options.sandbox ? { sandbox: options.sandbox } : {}),
    },
    placeOn: () => worker,
    logger,
  });
  sessions.push(session);
  return session;
};

describe('worker supervisor', () => {
  it('reports a worker that fails at start, and does not respawn it', async () => {
    const session = makeSession({ baileysModule: 'no-such-socket-module' });
    await expect(session.start()).rejects.toThrow(/no-such-socket-module/);
    expect(session.workerState).toBe('stopped');
    expect(session.workerRestarts).toBe(0);
    // Calls get a clear error rather than hanging.
    await expect(session.listChats()).rejects.toMatchObject({ code: 'WORKER_GONE' });
  });

  it('restarts a crashing worker with growing delays, keeping its polls', async () => {
    const session = makeSession({
      // A group list that takes WhatsApp a while: a call for it is surely in flight at the kill.
      sandbox: { qrScanDelayMs: 20, groupFetchDelayMs: 300, channelName: `sup-${process.pid}` },
    });
    await session.start();
    await sessionStatus(session);
    const [chat] = await session.listChats();
    const poll = await session.sendPoll({
      chatId: chat!.id,
      question: 'Still here?',
      options: ['Yes', 'No'],
      selectableCount: 1,
    });
    const delays: number[] = [];
    session.on('workerExit', (e) => delays.push(e.delayMs));
    for (let i = 1; i <= 3; i++) {
      // A call in flight when the worker dies fails with a clear error.
      const inFlight = session.listChats();
      await session.killWorker();
      await expect(inFlight).rejects.toMatchObject({ code: 'WORKER_GONE' });
      await until(
        session,
        'state',
        () => (session.workerState === 'running' ? true : undefined),
        `restart ${i}`,
      );
      await sessionStatus(session);
    }
    expect(session.workerRestarts).toBe(3);
    // 100 ms, 200 ms, 400 ms, each with ±20 % jitter: never a tight loop.
    expect(delays).toHaveLength(3);
    expect(delays[0]).toBeGreaterThanOrEqual(80);
    expect(delays[1]!).toBeGreaterThan(delays[0]! * 1.3);
    expect(delays[2]!).toBeGreaterThan(delays[1]! * 1.3);
    expect(session.getPoll(poll.id)?.question).toBe('Still here?');
  });
});
