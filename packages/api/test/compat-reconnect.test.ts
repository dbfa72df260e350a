import type { Poll } from '@pollmasters/shared';
import { optionHash } from '@pollmasters/shared/node';
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, expect, it } from 'vitest';
import { pollUpdateOf } from '../src/session/readModel.js';
import { startCompatServer } from './compatServer.js';
import { FakeSession, USER } from './fakeSession.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Poll `n` with `voters` voters (about 100 bytes of JSON each). */
const poll = (n: number, voters: number, version = voters): Poll => {
  const options = ['yes', 'no'].map((name) => ({ name, hash: optionHash(name) }));
  return {
    id: `3EB0RC${n}`,
    chatId: '120363000000000001@g.us',
    creator: { jid: '15550000001@s.whatsapp.net', fromMe: true },
    question: `Poll ${n}?`,
    options,
    selectableCount: 0,
    createdAt: n,
    voters: Array.from({ length: voters }, (_, i) => ({
      voter: `1555${String(i).padStart(7, '0')}@s.whatsapp.net`,
      selected: [options[i % 2]!.hash],
      timestampMs: i,
    })),
    unknownOptionVotes: 0,
    version,
  };
};

type PollData = { voters: Record<string, string[]> };
type Update = PollData & { pollMsgId: string };

/**
 * What a GUI holds: each poll's voter count, from `initial_poll_data` and the updates; `until`
 * waits for a condition on it, checked after each event the client gets.
 */
const gui = (url: string, transport: 'websocket' | 'polling') => {
  const voters = new Map<string, number>();
  const reasons: string[] = [];
  let initials = 0;
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const waiter of [...waiters]) waiter();
  };
  const until = (what: string, ok: () => boolean, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!ok()) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const socket: Socket = connect(url, {
    transports: [transport],
    forceNew: true,
    reconnectionDelay: 20,
    reconnectionDelayMax: 50,
  });
  socket.on('initial_poll_data', (all: Record<string, PollData>) => {
    initials += 1;
    for (const [id, data] of Object.entries(all)) voters.set(id, Object.keys(data.voters).length);
    changed();
  });
  socket.on('poll_update_to_gui', (u: Update) => {
    voters.set(u.pollMsgId, Object.keys(u.voters).length);
    changed();
  });
  socket.on('disconnect', (reason) => {
    reasons.push(reason);
    changed();
  });
  return { socket, voters, reasons, initials: () => initials, until };
};

for (const transport of ['websocket', 'polling'] as const) {
  it(`a GUI that connects while polls change (${transport}) is not dropped for the initial data it is given, and gets every newest state`, async () => {
    // 20 polls of 600 voters: ~1.3 MB of initial data, more than the 1 MiB slow-client bound.
    const session = new FakeSession({ status: 'ready', qr: null, user: USER });
    for (let n = 0; n < 20; n++) session.polls.set(`3EB0RC${n}`, poll(n, 600));
    const server = await startCompatServer(session, {
      coalesceMs: 10,
      pushBytesPerSec: 1e12,
      maxBufferedBytes: 1024 * 1024,
    });
    cleanups.push(server.close);
    // A vote arrives for every poll the moment the client has connected (its initial data
    // not yet written out), as it does all the time under a flood of votes.
    server.io.on('connection', () => {
      for (let n = 0; n < 20; n++) {
        const next = poll(n, 601);
        session.polls.set(next.id, next);
        session.emit('pollsUpdated', [pollUpdateOf(next)]);
      }
    });
    const client = gui(server.url, transport);
    cleanups.push(() => {
      client.socket.disconnect();
    });
    await client.until('every poll at 601 voters', () =>
      Array.from({ length: 20 }, (_, n) => client.voters.get(`3EB0RC${n}`)).every((v) => v === 601),
    );
    expect(client.reasons).toEqual([]);
    expect(client.initials()).toBe(1);
  });

  it(`a GUI that reconnects (${transport}) gets the current state of every poll, changed while it was away`, async () => {
    const session = new FakeSession({ status: 'ready', qr: null, user: USER });
    for (let n = 0; n < 5; n++) session.polls.set(`3EB0RC${n}`, poll(n, 10));
    const server = await startCompatServer(session, { coalesceMs: 10 });
    cleanups.push(server.close);
    const client = gui(server.url, transport);
    cleanups.push(() => {
      client.socket.disconnect();
    });
    await client.until('initial data', () => client.initials() === 1);
    // Its connection ends (as a ping timeout ends it); meanwhile every poll changes.
    const [serverSide] = server.io.of('/').sockets.values();
    serverSide!.conn.close();
    await client.until('disconnected', () => client.reasons.length === 1);
    for (let n = 0; n < 5; n++) {
      const next = poll(n, 20);
      session.polls.set(next.id, next);
      session.emit('pollsUpdated', [pollUpdateOf(next)]);
    }
    await client.until('reconnected with the current state', () => client.initials() === 2);
    expect([...client.voters.values()]).toEqual([20, 20, 20, 20, 20]);
    // And it is pushed to again.
    const later = poll(0, 30);
    session.polls.set(later.id, later);
    session.emit('pollsUpdated', [pollUpdateOf(later)]);
    await client.until('pushed after the reconnect', () => client.voters.get('3EB0RC0') === 30);
  });
}
