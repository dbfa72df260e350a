import { createPollMastersClient, type PollEvent } from '@pollmasters/client';
import { io } from 'socket.io-client';
import { afterEach, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { startTestServer, type TestServer } from './helpers/server.js';
import { clientReady } from './helpers/wait.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.destroy();
  server = undefined;
});

it('keeps a Socket.IO connection and a tRPC WebSocket open on one server, both receiving events', async () => {
  server = await startTestServer();
  const socket = io(server.url, { transports: ['websocket'], reconnection: false });
  const ioEvents: { name: string; args: unknown[] }[] = [];
  socket.onAny((name: string, ...args: unknown[]) => ioEvents.push({ name, args }));
  const client = createPollMastersClient({ url: server.url });
  const trpcEvents: PollEvent[] = [];
  const sub = client.polls.updates.subscribe(
    { snapshot: false },
    { onData: ({ data }) => trpcEvents.push(data) },
  );
  try {
    await vi.waitFor(() => expect(socket.connected).toBe(true));
    await vi.waitFor(() => expect(trpcEvents.at(0)?.type).toBe('synced'));
    await clientReady(client);
    const chat = (await client.chats.list.query())[0]!;
    const sent = await client.polls.send.mutate({
      chatIds: [chat.id],
      question: 'Both sockets?',
      options: ['yes', 'no'],
    });
    const pollId = sent.results[0]!.pollId!;
    // Both transports are upgraded WebSockets on the same http.Server, and both see the poll.
    await vi.waitFor(
      () => {
        expect(ioEvents.some((e) => e.name === 'new_poll_sent')).toBe(true);
        expect(trpcEvents.some((e) => e.type === 'pollSent' && e.poll.id === pollId)).toBe(true);
      },
      { timeout: 10_000 },
    );
    await vi.waitFor(
      () => {
        expect(ioEvents.some((e) => e.name === 'poll_update_to_gui')).toBe(true);
        expect(
          trpcEvents.some((e) => e.type === 'votes' && e.polls.some((p) => p.pollId === pollId)),
        ).toBe(true);
      },
      { timeout: 15_000 },
    );
    expect(socket.connected).toBe(true);
    expect(socket.io.engine.transport.name).toBe('websocket');
  } finally {
    sub.unsubscribe();
    socket.close();
    await client.close();
  }
});

it('ends at once an upgrade that is neither Socket.IO nor tRPC, also one under /trpc/', async () => {
  server = await startTestServer();
  for (const path of ['/elsewhere', '/trpc/polls.list']) {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}${path}`);
    // Refused, not left hanging: the connection ends well within the test's timeout.
    const ended = await new Promise<string>((resolve) => {
      ws.once('error', (err) => resolve(err.message));
      ws.once('open', () => resolve('open'));
    });
    expect(ended, path).not.toBe('open');
  }
});
