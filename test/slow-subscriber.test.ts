import { createRequire } from 'node:module';
import type { Socket as NetSocket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { createPollMastersClient, type PollEvent } from '@pollmasters/client';
import { afterEach, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { capturingLogger } from './helpers/logCapture.js';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sessionStatus } from './helpers/wait.js';

let server: TestServer | undefined;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await server?.destroy();
  server = undefined;
});

/** `ws`, remembering every socket it opens, so that a test can stall one. */
const sockets: WebSocket[] = [];
class RecordingWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    sockets.push(this);
  }
}

/** A poll's voters as a subscriber rebuilds them from `polls.updates`. */
class Follower {
  readonly voters = new Map<string, readonly string[]>();
  changes = 0;
  lastId: string | null = null;
  error: { code?: string; message: string } | null = null;
  private wake: (() => void) | null = null;

  onData = ({ id, data }: { id: string; data: PollEvent }) => {
    this.lastId = id;
    if (data.type === 'votes') {
      for (const c of data.polls.flatMap((p) => p.changes)) {
        this.changes += 1;
        if (c.selected.length) this.voters.set(c.voter, c.selected);
        else this.voters.delete(c.voter);
      }
    } else if (data.type === 'pollState') {
      this.voters.clear();
      for (const v of data.poll.voters) this.voters.set(v.voter, v.selected);
    }
    this.wake?.();
  };

  onError = (err: { data?: unknown; message: string }) => {
    this.error = { code: (err.data as { code?: string } | undefined)?.code, message: err.message };
    this.wake?.();
  };

  /** Resolves once `check` holds, re-checked on every event; rejects after `ms`. */
  until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out: ${what} ${this.voters.size} ${this.changes}`)),
        ms,
      );
      this.wake = () => {
        if (this.error && !what.includes('ended')) {
          clearTimeout(timer);
          reject(new Error(`${what}: ${this.error.message}`));
          return;
        }
        if (!check()) return;
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      this.wake();
    });
  }
}

/**
 * A healthy subscriber in a thread of its own, reading as fast as it can: in this thread it
 * would share the event loop of the in-process server, and lag only because the server works.
 * Raw tRPC over `ws`; reports its voters once it has `expected` of them, or its error.
 */
const healthySubscriber = (
  wsUrl: string,
  pollId: string,
  expected: number,
): { done: Promise<Record<string, string[]>>; stop(): Promise<number> } => {
  const wsPath = createRequire(import.meta.url).resolve('ws');
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const WebSocket = require(workerData.wsPath);
    const ws = new WebSocket(workerData.wsUrl);
    const voters = new Map();
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, method: 'subscription',
      params: { path: 'polls.updates', input: { json: { pollId: workerData.pollId } } } })));
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw));
      if (msg.error) return parentPort.postMessage({ error: msg.error.json?.message ?? 'error' });
      // A tracked event: { id, data } inside superjson's { json }.
      const event = msg.result && msg.result.type === 'data' ? msg.result.data.json.data : null;
      if (!event || event.type !== 'votes') return;
      for (const poll of event.polls) {
        for (const c of poll.changes) {
          if (c.selected.length) voters.set(c.voter, c.selected); else voters.delete(c.voter);
        }
      }
      if (voters.size === workerData.expected) {
        parentPort.postMessage({ voters: Object.fromEntries(voters) });
      }
    });
    ws.on('error', (err) => parentPort.postMessage({ error: err.message }));
    `,
    { eval: true, workerData: { wsUrl, pollId, expected, wsPath } },
  );
  const done = new Promise<Record<string, string[]>>((resolve, reject) => {
    // Not a speed check (that is the bench's): only a bound for a subscriber that never ends.
    const timer = setTimeout(() => reject(new Error('the healthy subscriber fell behind')), 90_000);
    worker.on('message', (m: { voters?: Record<string, string[]>; error?: string }) => {
      clearTimeout(timer);
      if (m.voters) resolve(m.voters);
      else reject(new Error(`healthy subscriber: ${m.error}`));
    });
    worker.once('error', reject);
  });
  return { done, stop: () => worker.terminate() };
};

it('a tRPC subscriber that stops reading is cut off at a bound, others keep up, and it resumes by lastEventId', {
  timeout: 150_000,
}, async () => {
  const maxBytes = 1024 * 1024;
  // What the server logs, to find the subscription it ended.
  const { logger, lines: logged } = capturingLogger();
  server = await startTestServer({
    logger,
    config: { subscriberMaxBufferedBytes: maxBytes },
    sandbox: { autoVote: false },
  });
  const s = server;
  const url = `http://127.0.0.1:${s.port}`;
  const probe = new SandboxProbe(s.sandboxChannel);
  cleanups.push(() => probe.close());
  await sessionStatus(s.session);
  const [group] = (await s.session.listChats()).filter((c) => c.isGroup);
  const poll = await s.session.sendPoll({
    chatId: group?.id ?? '',
    question: 'Slow?',
    options: ['a', 'b', 'c'],
    selectableCount: 0,
  });

  const stalledClient = createPollMastersClient({
    url,
    WebSocket: RecordingWebSocket as unknown as typeof globalThis.WebSocket,
  });
  cleanups.push(() => stalledClient.close());
  const stalled = new Follower();
  const subs = [stalledClient.polls.updates.subscribe({ pollId: poll.id }, stalled)];
  cleanups.push(() => {
    for (const sub of subs) sub.unsubscribe();
  });
  await stalled.until(() => stalled.lastId !== null, 'stalled subscribed');
  const stalledWs = sockets.at(-1) as unknown as { _socket: NetSocket };
  stalledWs._socket.pause();
  cleanups.push(() => stalledWs._socket.destroy());

  const total = 30_000;
  const healthy = healthySubscriber(`ws://127.0.0.1:${s.port}/trpc`, poll.id, total);
  cleanups.push(() => healthy.stop());
  const burst = await probe.voteBurst([{ pollId: poll.id, count: total }], { seed: 7 });
  expect(burst.polls[poll.id]).toMatchObject({ cast: total, voters: total });

  // The healthy subscriber gets every change, while the other one reads nothing.
  const healthyVoters = await healthy.done;
  expect(Object.keys(healthyVoters)).toHaveLength(total);
  expect(stalled.changes).toBeLessThan(total);

  // Reading again, the stalled one finds its subscription ended with a clear error ...
  stalledWs._socket.resume();
  await stalled.until(() => stalled.error !== null, 'the stalled subscription was ended');
  expect(stalled.error).toEqual({
    code: 'TOO_MANY_REQUESTS',
    message: 'subscriber is not reading its socket fast enough; resubscribe with lastEventId',
  });
  // ... after only what the kernel's socket buffers and the bound held, not the whole stream.
  expect(stalled.changes).toBeLessThan(total);
  // The operator sees it at info: which session, and how much waited for the client.
  const ended = logged.filter((l) => l.msg === 'polls.updates ended: its client reads too slowly');
  expect(ended).toEqual([
    expect.objectContaining({ level: 30, sessionId: 'default', pollId: poll.id }),
  ]);
  expect(ended[0]!.bufferedBytes).toBeGreaterThan(maxBytes);

  // Resuming by its last event id, it ends with exactly the healthy subscriber's state.
  const resumed = new Follower();
  for (const [voter, selected] of stalled.voters) resumed.voters.set(voter, selected);
  subs.push(
    stalledClient.polls.updates.subscribe(
      { pollId: poll.id, lastEventId: stalled.lastId },
      resumed,
    ),
  );
  await resumed.until(() => resumed.voters.size === total, 'the resumed subscriber caught up');
  expect(Object.fromEntries(resumed.voters)).toEqual(healthyVoters);
});
