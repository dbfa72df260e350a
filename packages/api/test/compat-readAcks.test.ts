import { EventEmitter } from 'node:events';
import type { Socket } from 'socket.io';
import { expect, it } from 'vitest';
import { ReadAcks } from '../src/compat/readAcks.js';

/**
 * A Socket.IO socket over an engine.io connection, reduced to what ReadAcks uses: `sendPacket`
 * records the ping and emits `packetCreate` as engine.io does; `pong()` is the client's answer.
 */
const fakeSocket = (id: string) => {
  const conn = new EventEmitter() as EventEmitter & {
    protocol: number;
    sendPacket(t: string): void;
  };
  let pings = 0;
  conn.protocol = 4;
  conn.sendPacket = (type: string) => {
    if (type === 'ping') pings += 1;
    conn.emit('packetCreate', { type });
  };
  const socket = Object.assign(new EventEmitter(), { id, conn }) as unknown as Socket;
  return {
    socket,
    pings: () => pings,
    pong: () => conn.emit('packet', { type: 'pong' }),
    /** engine.io's own heartbeat ping. */
    heartbeat: () => conn.sendPacket('ping'),
  };
};

it('counts as read what was sent before each ping the client answered, one probe at a time', () => {
  const reads: string[] = [];
  const acks = new ReadAcks((id) => reads.push(id));
  const c = fakeSocket('a');
  acks.track(c.socket);
  acks.sent(c.socket, 100);
  expect(c.pings()).toBe(1);
  acks.sent(c.socket, 50); // a probe is on its way: no second one
  expect(c.pings()).toBe(1);
  expect(acks.unread('a')).toBe(150);
  c.pong(); // the first 100 were read; the 50 after the probe get one of their own
  expect(acks.unread('a')).toBe(50);
  expect(c.pings()).toBe(2);
  c.pong();
  expect(acks.unread('a')).toBe(0);
  expect(c.pings()).toBe(2);
  expect(reads).toEqual(['a', 'a']);
});

it("matches pongs to engine.io's own heartbeat pings too, in order", () => {
  const acks = new ReadAcks(() => {});
  const c = fakeSocket('a');
  acks.track(c.socket);
  c.heartbeat(); // before anything was sent: its pong says nothing was read
  acks.sent(c.socket, 100); // the heartbeat's ping is on its way: it waits for that pong
  expect(c.pings()).toBe(1);
  c.pong();
  expect(acks.unread('a')).toBe(100);
  expect(c.pings()).toBe(2);
  c.pong();
  expect(acks.unread('a')).toBe(0);
  c.pong(); // a pong for no ping (none counted) changes nothing
  expect(acks.unread('a')).toBe(0);
});

it('lets the initial data be queued until the client has read it', () => {
  const acks = new ReadAcks(() => {});
  const c = fakeSocket('a');
  acks.track(c.socket);
  acks.sent(c.socket, 1_000, true);
  acks.sent(c.socket, 10);
  expect(acks.initialUnread('a')).toBe(1_000);
  c.pong();
  expect(acks.initialUnread('a')).toBe(0);
  expect(acks.unread('a')).toBe(10);
});

it('forgets a client when it disconnects, and follows no protocol-3 client', () => {
  const acks = new ReadAcks(() => {});
  const c = fakeSocket('a');
  acks.track(c.socket);
  acks.sent(c.socket, 100);
  c.socket.emit('disconnect');
  expect(acks.unread('a')).toBe(0);
  const old = fakeSocket('b');
  (old.socket.conn as unknown as { protocol: number }).protocol = 3;
  acks.track(old.socket);
  acks.sent(old.socket, 100);
  expect(old.pings()).toBe(0);
  expect(acks.unread('b')).toBe(0);
});
