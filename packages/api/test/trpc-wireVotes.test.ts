import type { AddressInfo } from 'node:net';
import { transformer } from '@pollmasters/shared';
import { createHTTPServer } from '@trpc/server/adapters/standalone';
import { applyWSSHandler, jsonEncoder } from '@trpc/server/adapters/ws';
import { afterEach, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { PollReadModel } from '../src/session/readModel.js';
import { PollEventLog } from '../src/trpc/eventLog.js';
import { appRouter } from '../src/trpc/router.js';
import { FakeSession } from './fakeSession.js';
import { routerContext } from './routerContext.js';
import { applyMixedBatch, applyOneVote, poll, votesEvent } from './votesFixtures.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The server's tRPC WebSocket handler over the router, on a free port. */
const serve = async (log: PollEventLog) => {
  const ctx = routerContext(new FakeSession(), { log });
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  const handler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: () => ctx,
  });
  cleanups.push(async () => {
    handler.broadcastReconnectNotification();
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
};

/** A raw WebSocket client of `polls.updates`: the text of each data frame it gets. */
const subscribe = async (url: string, id: number | string, input: object) => {
  const ws = new WebSocket(url);
  cleanups.push(() => ws.terminate());
  const frames: string[] = [];
  let wake = () => {};
  ws.on('message', (data) => {
    const text = String(data);
    if ((JSON.parse(text) as { result?: { type?: string } }).result?.type === 'data') {
      frames.push(text);
      wake();
    }
  });
  await new Promise((resolve) => ws.once('open', resolve));
  const params = { path: 'polls.updates', input: { json: input } };
  ws.send(JSON.stringify({ id, method: 'subscription', params }));
  const frame = async (n: number) => {
    while (frames.length <= n) await new Promise<void>((resolve) => (wake = resolve));
    return frames[n]!;
  };
  return frame;
};

/**
 * What tRPC's default encoder sends for `frame` with `event`, a plain object, as its data:
 * what every frame of `polls.updates` was before the log kept its `votes` events in columns.
 */
const plainFrame = (frame: string, event: object) => {
  const parsed = JSON.parse(frame) as { result: { data: { json: { data: unknown } } } };
  parsed.result.data.json.data = event;
  return jsonEncoder.encode(parsed);
};

it('sends a votes event, live and resumed, whole or for one poll, as JSON.stringify of the event object', async () => {
  const log = new PollEventLog({ epoch: 'e1' });
  const model = new PollReadModel();
  model.put(poll('a'));
  model.put(poll('b'));
  const url = await serve(log);
  const live = await subscribe(url, 1, { snapshot: false });
  const liveB = await subscribe(url, 4, { snapshot: false, pollId: 'b' });
  await live(0); // synced
  await liveB(0);

  const first = applyMixedBatch(model);
  log.pollsUpdated(first);
  const second = applyOneVote(model, 'b', 'z@s.whatsapp.net', 2);
  log.pollsUpdated(second);
  const whole = [votesEvent(first), votesEvent(second)];
  const onlyB = [votesEvent(first.filter((u) => u.pollId === 'b')), votesEvent(second)];

  const resumed = await subscribe(url, 2, { lastEventId: 'e1-0' });
  const resumedB = await subscribe(url, 3, { lastEventId: 'e1-0', pollId: 'b' });
  for (const [frame, events] of [
    [live, whole],
    [resumed, whole],
    [liveB, onlyB],
    [resumedB, onlyB],
  ] as const) {
    const offset = frame === live || frame === liveB ? 1 : 0;
    for (let i = 0; i < events.length; i++) {
      const text = await frame(offset + i);
      expect(text).toBe(plainFrame(text, events[i]!));
      expect(JSON.parse(text).result.data.json).toStrictEqual({
        id: `e1-${i + 1}`,
        data: JSON.parse(JSON.stringify(events[i])),
      });
    }
  }
});

it('sends a resumed votes event over server-sent events as JSON.stringify of the event object', async () => {
  const log = new PollEventLog({ epoch: 'e1' });
  const model = new PollReadModel();
  model.put(poll('a'));
  model.put(poll('b'));
  const first = applyMixedBatch(model);
  log.pollsUpdated(first);
  const ctx = routerContext(new FakeSession(), { log });
  const server = createHTTPServer({ router: appRouter, createContext: () => ctx });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  const ac = new AbortController();
  cleanups.push(() => ac.abort());
  const input = encodeURIComponent(JSON.stringify({ json: { lastEventId: 'e1-0' } }));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/polls.updates?input=${input}`;
  const response = await fetch(url, { signal: ac.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  // Lines end at \n only: the event's JSON holds a U+2028, which `.` would not match.
  const votes = /\ndata: ([^\n]*"votes"[^\n]*)\n/;
  while (!votes.test(text)) text += (await reader.read()).value ?? '';
  const data = votes.exec(text)![1]!;
  expect(data).toBe(JSON.stringify(transformer.serialize(votesEvent(first))));
});
