import { Limits } from '@pollmasters/shared';
import { TRPCError } from '@trpc/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { refuseCalls } from '../src/trpc/wsRefusal.js';
import { FakeWebSocket } from './fakeWebSocket.js';

const refusal = new TRPCError({ code: 'UNAUTHORIZED', message: 'missing or wrong API key' });
const query = (id: number) => ({ id, method: 'query', params: { path: 'x', input: null } });

afterEach(() => {
  vi.useRealTimers();
});

describe('a refused tRPC WebSocket (issue #16 review)', () => {
  it('is never pinged nor closed by the server, however long it stays: its client would reconnect', () => {
    vi.useFakeTimers();
    const socket = new FakeWebSocket();
    refuseCalls(socket.ws, refusal);
    socket.receive(JSON.stringify(query(1)));
    expect(socket.sent).toHaveLength(1);
    vi.advanceTimersByTime(10 * 60_000);
    expect(socket.sent).toHaveLength(1);
    expect(socket.terminated).toBe(0);
    expect(socket.closed).toEqual([]);
    // The client's own keep-alive is answered.
    socket.receive('PING');
    expect(socket.sent.at(-1)).toBe('PONG');
  });

  it('answers the first calls of a message only, as many as a batch may hold', () => {
    const socket = new FakeWebSocket();
    refuseCalls(socket.ws, refusal);
    const ids = Array.from({ length: 7_000 }, (_, i) => query(i));
    const message = JSON.stringify(ids);
    expect(Buffer.byteLength(message)).toBeLessThan(Limits.bodyMaxBytes * 8);
    socket.receive(message);
    expect(socket.sent.map((text) => (JSON.parse(text) as { id: number }).id)).toEqual(
      ids.slice(0, Limits.batchMaxCalls).map((call) => call.id),
    );
    const sentBytes = socket.sent.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    expect(sentBytes).toBeLessThan(Buffer.byteLength(message));
  });

  it('terminates a socket that does not read its answers', () => {
    const socket = new FakeWebSocket();
    refuseCalls(socket.ws, refusal);
    socket.receive(JSON.stringify(query(1)));
    expect(socket.terminated).toBe(0);
    socket.bufferedAmount = 1024 * 1024;
    socket.receive(JSON.stringify(query(2)));
    expect(socket.terminated).toBe(1);
    expect(socket.sent).toHaveLength(1);
  });
});
