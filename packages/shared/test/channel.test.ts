import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, type Logger, PollMastersError } from '../src/index.js';
import { ChannelClient, spawnWorker, WORKER_CHANNEL } from '../src/node/index.js';

const fixture = new URL('./fixtures/echo-worker.ts', import.meta.url);
const workers: Worker[] = [];

const start = async (workerData: object = {}, logger?: Logger) => {
  const worker = spawnWorker(fixture, { workerData });
  workers.push(worker);
  const client = new ChannelClient(worker, { sessionId: 'test', timeoutMs: 2_000, logger });
  await client.whenReady();
  return { worker, client };
};

const spyLogger = () => ({ debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() });

const poll = (question: string) => ({
  type: 'sendPoll' as const,
  poll: { chatId: '1@g.us', question, options: ['a', 'b'], selectableCount: 1 },
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

describe('worker channel over a real worker thread', () => {
  it('round-trips a command to its typed result', async () => {
    const { client } = await start();
    const { chats } = await client.call({ type: 'listChats' });
    expect(chats).toEqual([{ id: '1@g.us', name: 'Group', isGroup: true }]);
    const { code } = await client.call({
      type: 'requestPairingCode',
      phoneNumber: '+49 170 1234567',
    });
    expect(code).toBe('code-491701234567');
  });

  it('resolves many concurrent calls each to its own caller', async () => {
    const { client } = await start();
    const questions = Array.from({ length: 200 }, (_, i) => `q${i}`);
    const results = await Promise.all(questions.map((q) => client.call(poll(q))));
    expect(results.map((r) => r.poll.id)).toEqual(questions.map((q) => `id-${q}`));
  });

  it('rebuilds errors as {code, message} on the calling side', async () => {
    const { client } = await start();
    const err = await client.call(poll('fail')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PollMastersError);
    expect(err).toMatchObject({ code: ErrorCode.SEND_FAILED, message: 'chat refused the poll' });
    // An unexpected throw arrives as INTERNAL with its message.
    await expect(client.call({ type: 'logout' })).rejects.toMatchObject({
      code: ErrorCode.INTERNAL,
      message: 'boom',
    });
  });

  it('rejects bad input before it crosses, with a clear message', async () => {
    const { client } = await start();
    await expect(
      client.call({
        type: 'sendPoll',
        poll: { chatId: 'nope', question: ' ', options: ['a', 'a'], selectableCount: 0 },
      }),
    ).rejects.toMatchObject({
      code: ErrorCode.BAD_INPUT,
      message: expect.stringMatching(/chatId/),
    });
  });

  it('times out a call, and ignores its late reply', async () => {
    const logger = spyLogger();
    const { client } = await start({}, logger);
    const err = await client.call(poll('slow'), { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.TIMEOUT });
    // The channel keeps working after a timeout.
    await expect(client.call({ type: 'listChats' })).resolves.toBeTruthy();
  });

  it('rejects every pending call when the worker exits', async () => {
    const { worker, client } = await start({ exitOnCall: true });
    worker.on('exit', () => client.close());
    const calls = [client.call(poll('a')), client.call(poll('b')), client.call(poll('c'))];
    const settled = await Promise.allSettled(calls);
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      expect((s as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCode.WORKER_GONE });
    }
    await expect(client.call({ type: 'listChats' })).rejects.toMatchObject({
      code: ErrorCode.WORKER_GONE,
    });
  });

  it('delivers typed events to their listeners only', async () => {
    const { worker, client } = await start();
    const qr = vi.fn();
    const status = vi.fn();
    client.on('qr', qr);
    client.on('status', status);
    worker.postMessage('emit-qr');
    await vi.waitFor(() => expect(qr).toHaveBeenCalledWith({ type: 'qr', qr: 'raw-qr' }));
    expect(status).not.toHaveBeenCalled();
  });

  it('survives invalid messages on both sides, answering with an error', async () => {
    const logger = spyLogger();
    const { worker, client } = await start({}, logger);
    // Garbage to the worker: it answers with an INVALID_MESSAGE error and keeps serving.
    const answer = new Promise((resolve) =>
      worker.on('message', (m: { kind?: string }) => m.kind === 'error' && resolve(m)),
    );
    worker.postMessage({ kind: 'call', id: 'x' });
    expect(await answer).toMatchObject({ error: { code: ErrorCode.INVALID_MESSAGE } });
    // An invalid command with a valid envelope is answered for its id.
    worker.postMessage({ kind: 'call', id: 99, sessionId: 'test', command: { type: 'nope' } });
    // Garbage from the worker: the client logs it and does not crash.
    worker.postMessage('send-garbage');
    await vi.waitFor(() =>
      expect(logger.warn).toHaveBeenCalledWith(expect.anything(), 'invalid event from worker'),
    );
    // An invalid result is a rejected call, not a crash.
    await expect(client.call({ type: 'snapshot' })).rejects.toMatchObject({
      code: ErrorCode.INVALID_MESSAGE,
    });
    await expect(client.call({ type: 'listChats' })).resolves.toBeTruthy();
    expect(worker.threadId).toBeGreaterThan(0);
  });

  it('lets a worker emit events while answering a call', async () => {
    const { client, worker } = await start();
    const status = new Promise((resolve) => client.on('status', resolve));
    const toWorker = new ChannelClient(worker, { sessionId: WORKER_CHANNEL, timeoutMs: 2_000 });
    await toWorker.call({ type: 'shutdown' });
    expect(await status).toMatchObject({ status: 'disconnected', detail: 'bye' });
  });

  it('routes each session its own replies and events; commands go to the right address', async () => {
    const { worker, client } = await start();
    const other = new ChannelClient(worker, { sessionId: 'other', timeoutMs: 2_000 });
    const otherQr = vi.fn();
    other.on('qr', otherQr);
    const qr = new Promise((resolve) => client.on('qr', resolve));
    worker.postMessage('emit-qr');
    await qr;
    expect(otherQr).not.toHaveBeenCalled();
    await expect(other.call({ type: 'listChats' })).resolves.toBeTruthy();
    // The worker's own command, addressed to a session, and a session's, to the worker.
    await expect(client.call({ type: 'shutdown' })).rejects.toMatchObject({
      code: ErrorCode.INVALID_MESSAGE,
    });
    const toWorker = new ChannelClient(worker, { sessionId: WORKER_CHANNEL, timeoutMs: 2_000 });
    await expect(toWorker.call({ type: 'listChats' })).rejects.toMatchObject({
      code: ErrorCode.INVALID_MESSAGE,
    });
  });
});
