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

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

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

  it('carries vote changes across as they were emitted, packed into columns on the way', async () => {
    const { worker, client } = await start();
    const votes = vi.fn();
    client.on('votes', votes);
    const [a, b] = [HASH_A, HASH_B];
    const changes = [
      {
        pollId: 'P1',
        voter: '1@s.whatsapp.net',
        name: 'Ann',
        selected: [a],
        unknownHashes: 0,
        timestampMs: 1733350000123,
        version: 1,
      },
      {
        pollId: 'P2',
        voter: '2@lid',
        selected: [a, b],
        unknownHashes: 2,
        timestampMs: 1733350000124,
        version: 7,
      },
      {
        pollId: 'P1',
        voter: '3@lid',
        selected: [],
        unknownHashes: 0,
        timestampMs: 1733350000125,
        version: 2,
      },
      {
        pollId: 'P1',
        voter: '1@s.whatsapp.net',
        name: 'Ann B.',
        selected: [b],
        unknownHashes: 0,
        timestampMs: 1733350000126,
        version: 3,
      },
    ];
    // What crosses is columns, not one object per change.
    const crossed = new Promise<unknown>((resolve) =>
      worker.on('message', (m: { kind?: string; event?: unknown }) => {
        if (m.kind === 'event') resolve(m.event);
      }),
    );
    worker.postMessage({ emitVotes: changes });
    expect(await crossed).toMatchObject({
      type: 'votes',
      changes: { pollIds: ['P1', 'P2'], voters: changes.map((c) => c.voter) },
    });
    await vi.waitFor(() => expect(votes).toHaveBeenCalledTimes(1));
    expect(votes.mock.calls[0]![0]).toStrictEqual({ type: 'votes', changes });
  });

  it('refuses a packed vote batch whose columns do not fit together, delivering none of it', async () => {
    const logger = spyLogger();
    const { worker, client } = await start({}, logger);
    const votes = vi.fn();
    client.on('votes', votes);
    const packed = (numbers: number[], extra: object = {}) => ({
      type: 'votes',
      changes: {
        pollIds: ['P1'],
        selections: [[HASH_A]],
        voters: ['1@lid'],
        names: [null],
        numbers: new Float64Array(numbers),
        ...extra,
      },
    });
    for (const bad of [
      packed([1, 0, 0, 1, 1]), // no poll 1
      packed([0, 1, 0, 1, 1]), // no selection 1
      packed([0, 0, -1, 1, 1]), // negative unknownHashes
      packed([0, 0, 0, 1, 1.5]), // a fractional version
      packed([0, 0, 0, 1]), // a number short
      packed([0, 0, 0, 1, 1], { names: [] }), // a name short
      packed([0, 0, 0, 1, 1], { selections: [['not a hash']] }),
      packed([0, 0, 0, 1, 1], { voters: [7] }), // a voter not a string
      packed([], { voters: [], names: [] }), // no change at all
      packed([0, 0, 0, 1, 1], { names: [undefined] }), // a name neither a string nor null
      packed([0, 0, 0, 1, 1], { names: '1' }), // not an array
    ]) {
      worker.postMessage({ sendPacked: bad });
    }
    await vi.waitFor(() =>
      expect(
        logger.warn.mock.calls.filter((c) => c[1] === 'invalid event from worker'),
      ).toHaveLength(11),
    );
    worker.postMessage({ sendPacked: packed([0, 0, 0, 1, 1]) });
    await vi.waitFor(() => expect(votes).toHaveBeenCalledTimes(1));
    expect(votes.mock.calls[0]![0].changes).toEqual([
      {
        pollId: 'P1',
        voter: '1@lid',
        selected: [HASH_A],
        unknownHashes: 0,
        timestampMs: 1,
        version: 1,
      },
    ]);
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
