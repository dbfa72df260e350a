import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';
import { Recorder } from './helpers/socketRecorder.js';
import { sessionStatus } from './helpers/wait.js';

// A stopped session is not connected to WhatsApp: every view of its status says so (the
// compat /status, the GUI's client_status, /api/sessions, /healthz), and what needs the
// connection is refused as "not connected" (409), not as a worker failure.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  await sessionStatus(server.session, 'ready', 15_000);
});
afterAll(() => server?.destroy());

const json = async (path: string, init?: RequestInit) => {
  const res = await fetch(`${server.url}${path}`, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const post = (path: string, body?: unknown) =>
  json(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe('stopping a session', () => {
  it('makes it disconnected everywhere, and starting it makes it ready again', async () => {
    const gui = new Recorder(io(server.url, { transports: ['websocket'] }));
    const isStatus = (status: string) => (payload: unknown) => payload === status;
    try {
      const ready = await gui.index('client_status', 0, isStatus('ready'));

      const stopped = await post('/api/sessions/default/stop');
      expect(stopped).toMatchObject({ status: 200, body: { run: 'stopped' } });
      expect(stopped.body.status).toBe('disconnected');
      expect((await json('/status')).body).toEqual({ status: 'disconnected' });
      const told = await gui.index('client_status', ready, isStatus('disconnected'));
      expect((await json('/healthz')).body).toMatchObject({ whatsapp: 'disconnected' });
      const poll = { chatId: '1@g.us', question: 'Q', options: ['A', 'B'] };
      expect(await post('/send-poll', { ...poll, allowMultipleAnswers: true })).toMatchObject({
        status: 409,
        body: { success: false },
      });
      expect((await json('/get-chats')).status).toBe(409);

      expect((await post('/api/sessions/default/start')).status).toBe(200);
      await sessionStatus(server.session, 'ready', 15_000);
      expect((await json('/status')).body).toMatchObject({ status: 'ready' });
      await gui.index('client_status', told, isStatus('ready'));
    } finally {
      gui.socket.close();
    }
  });
});
