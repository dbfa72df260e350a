import { request as httpRequest } from 'node:http';
import { type Poll, toPollData } from '@pollmasters/shared';
import { optionHash } from '@pollmasters/shared/node';
import type { Socket } from 'socket.io-client';
import { Encoder, type Packet, PacketType } from 'socket.io-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { compatParser } from '../src/compat/index.js';
import { JsonText } from '../src/compat/jsonText.js';
import { Config } from '../src/config.js';
import { startCompatServer } from './compatServer.js';
import { FakeSession, USER } from './fakeSession.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const OPTIONS = ['Pizza', 'Sushi', 'Salad'].map((name) => ({ name, hash: optionHash(name) }));

/** A poll of `voters` voters, as the read model holds one. */
const bigPoll = (n: number, voters: number): Poll => ({
  id: `3EB0BIG${String(n).padStart(4, '0')}`,
  chatId: '120363000000000001@g.us',
  creator: { jid: USER.id, fromMe: true },
  question: `Lunch ${n}? "quoted" \\ ü`,
  options: OPTIONS,
  selectableCount: n % 2,
  createdAt: 1_700_000_000_000 + n,
  voters: Array.from({ length: voters }, (_, i) => ({
    voter: `1999${String(i).padStart(8, '0')}@s.whatsapp.net`,
    selected: [OPTIONS[i % 3]!.hash],
    timestampMs: 1_700_000_000_000 + i,
  })),
  unknownOptionVotes: 0,
  version: voters,
});

const start = async (polls: Poll[]) => {
  const session = new FakeSession({ status: 'ready', qr: null, user: USER });
  for (const poll of polls) session.polls.set(poll.id, poll);
  const server = await startCompatServer(
    session,
    {},
    Config.parse({ port: 0, logLevel: 'silent' }),
  );
  cleanups.push(server.close);
  return server;
};

it('streams GET /get-all-poll-data: the bytes of the whole object, sent in pieces', async () => {
  const polls = Array.from({ length: 40 }, (_, n) => bigPoll(n, 500));
  const { url } = await start(polls);
  const res = await fetch(`${url}/get-all-poll-data`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  // Streamed: no length known up front (the whole answer is never built).
  expect(res.headers.get('content-length')).toBeNull();
  expect(res.headers.get('transfer-encoding')).toBe('chunked');
  const expected = JSON.stringify({
    success: true,
    polls: Object.fromEntries(polls.map((p) => [p.id, toPollData(p)])),
  });
  expect(await res.text()).toBe(expected);
});

it('keeps serving when a client goes away in the middle of the stream', async () => {
  const polls = Array.from({ length: 40 }, (_, n) => bigPoll(n, 1_000));
  const { url } = await start(polls);
  // Read the first bytes, then drop the connection.
  await new Promise<void>((resolve, reject) => {
    const req = httpRequest(`${url}/get-all-poll-data`, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.end();
  });
  const again = (await (await fetch(`${url}/get-all-poll-data`)).json()) as {
    polls: Record<string, { voters: Record<string, string[]> }>;
  };
  expect(again.polls[polls[0]!.id]!.voters).toHaveProperty(polls[0]!.voters[999]!.voter);
});

it('encodes a JsonText event as the default parser encodes its value', () => {
  const value = toPollData(bigPoll(1, 3));
  const stock = new Encoder();
  const compat = new compatParser.Encoder();
  for (const nsp of ['/', '/admin']) {
    for (const id of [undefined, 7]) {
      const packet = (data: unknown): Packet => ({
        type: PacketType.EVENT,
        nsp,
        data: ['poll_update_to_gui', data],
        ...(id === undefined ? {} : { id }),
      });
      expect(compat.encode(packet(new JsonText(JSON.stringify(value))))).toEqual(
        stock.encode(packet(value)),
      );
    }
  }
  // Given in parts, the text is written as their concatenation.
  const text = JSON.stringify(value);
  const parts = [text.slice(0, 7), '', text.slice(7, 300), text.slice(300)];
  expect(compat.encode(packetOf(new JsonText(parts)))).toEqual(stock.encode(packetOf(value)));
  expect(new JsonText(parts).length).toBe(text.length);
  // Anything else goes through the default encoder unchanged.
  const plain: Packet = { type: PacketType.EVENT, nsp: '/', data: ['client_status', 'ready'] };
  expect(compat.encode(plain)).toEqual(stock.encode(plain));
  // Another encoder (e.g. an adapter's) that meets a JsonText gets its value.
  expect(stock.encode(packetOf(new JsonText('{"a":[1]}')))).toEqual(
    stock.encode(packetOf({ a: [1] })),
  );
});

const packetOf = (data: unknown): Packet => ({
  type: PacketType.EVENT,
  nsp: '/',
  data: ['initial_poll_data', data],
});

// A packet under 126 bytes, under 64 KiB, and over it: each WebSocket frame length encoding.
// The names and questions are not all ASCII (UTF-8 bytes differ from UTF-16 units).
const INITIAL_CASES = {
  empty: [],
  'under 64 KiB': [bigPoll(1, 300), { ...bigPoll(2, 10), id: '42' }, bigPoll(3, 0)],
  'over 64 KiB': [
    bigPoll(1, 300),
    { ...bigPoll(2, 10), id: '42', question: 'Emoji 🍕 \ud83c and \u2028' },
    bigPoll(3, 0),
    bigPoll(4, 700),
    bigPoll(5, 2_000),
  ],
} satisfies Record<string, Poll[]>;

describe.each(['websocket', 'polling'] as const)('initial_poll_data over %s', (transport) => {
  it.each(Object.entries(INITIAL_CASES))(
    'is the bytes of the whole object: %s',
    async (_, polls) => {
      // An id like an array index comes first in the object, whatever the order of the polls.
      const session = new FakeSession({ status: 'ready', qr: null, user: USER });
      for (const poll of polls) session.polls.set(poll.id, poll);
      // Never every poll with its voters at once: each is read by itself.
      const listPolls = session.listPolls.bind(session);
      let wholeReads = 0;
      session.listPolls = () => {
        wholeReads += 1;
        return listPolls();
      };
      const server = await startCompatServer(session);
      cleanups.push(server.close);
      // Collected and asserted: a throw in the engine's listener is an error of the socket's
      // message handler, reported apart from this test (or seen as a timeout), not its failure.
      const frames: string[] = [];
      const binaryFrames: unknown[] = [];
      const record = (socket: Socket) =>
        socket.io.on('open', () =>
          socket.io.engine.on('data', (data) => {
            if (typeof data !== 'string') binaryFrames.push(data);
            else if (data.includes('initial_poll_data')) frames.push(data);
          }),
        );
      await server.client('initial_poll_data', record, [transport]);
      const all = Object.fromEntries(polls.map((p) => [p.id, toPollData(p)]));
      expect(frames).toEqual([`2${JSON.stringify(['initial_poll_data', all])}`]);
      expect(binaryFrames).toEqual([]);
      expect(wholeReads).toBe(0);
    },
  );
});
