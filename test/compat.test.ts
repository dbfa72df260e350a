import {
  AllPollDataResponse,
  CompatServerEvents,
  FailureResponse,
  GetChatsResponse,
  LogoutResponse,
  type PollData,
  SendPollResponse,
  StatusResponse,
} from '@pollmasters/shared';
import { optionHash } from '@pollmasters/shared/node';
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { Recorder } from './helpers/socketRecorder.js';

/** Votes settle fast: every plan ends within 4 × 80 ms of its poll. */
const SANDBOX = { voteDelayMs: { min: 10, max: 80 } };

/** The compat view of what the ledger says: voters with their hashes, counts per option. */
const expectedView = (options: string[], votes: Record<string, string[]>) => ({
  voters: Object.fromEntries(
    Object.entries(votes).map(([voter, names]) => [voter, names.map(optionHash)]),
  ),
  results: Object.fromEntries(
    options.map((o) => [o, Object.values(votes).filter((names) => names.includes(o)).length]),
  ),
});

const sorted = (voters: Record<string, readonly string[]>) =>
  Object.fromEntries(
    Object.entries(voters)
      .map(([k, v]) => [k, [...v].sort()] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );

const servers: TestServer[] = [];
const sockets: Socket[] = [];
const probes: SandboxProbe[] = [];
afterEach(async () => {
  for (const p of probes.splice(0)) p.close();
  for (const s of sockets.splice(0)) s.disconnect();
  for (const s of servers.splice(0)) await s.destroy();
});

const start = async (sandbox: Record<string, unknown> = SANDBOX) => {
  const server = await startTestServer({ sandbox });
  servers.push(server);
  return server;
};

const client = (server: TestServer): Recorder => {
  const socket = connect(server.url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  sockets.push(socket);
  return new Recorder(socket);
};

const json = async (res: Response) => {
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return { status: res.status, body: (await res.json()) as unknown };
};
const get = async (server: TestServer, path: string) => json(await fetch(`${server.url}${path}`));
const post = async (server: TestServer, path: string, body: unknown) =>
  json(
    await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );

const isReady = (status: unknown) => status === 'ready';

describe('compat API against the sandbox', () => {
  it('shows the raw QR while pending and refuses to send until logged in', async () => {
    const server = await start({ ...SANDBOX, qrScanDelayMs: 600_000 });
    const gui = client(server);
    const qrAt = await gui.index('qr_code');
    const qr = CompatServerEvents.qr_code.parse(gui.events[qrAt]?.payload);
    expect(qr).toMatch(/^[^,]+,[^,]+,[^,]+,[^,]+/); // WhatsApp's ref,noiseKey,identityKey,advSecret
    expect(gui.payloads('client_status')).toContain('qr_pending');
    await gui.index('initial_poll_data');
    const status = StatusResponse.parse((await get(server, '/status')).body);
    expect(status).toEqual({ status: 'qr_pending', qrCode: expect.any(String) });

    const chatId = '120363000000000001@g.us';
    const send = await post(server, '/send-poll', {
      chatId,
      question: 'Q?',
      options: ['a', 'b'],
      allowMultipleAnswers: false,
    });
    expect(send.status).toBe(409);
    expect(FailureResponse.parse(send.body).message).toMatch(/not connected/);
    expect((await get(server, '/get-chats')).status).toBe(409);
  });

  it('sends polls to every chat, pushes new_poll_sent and poll_update_to_gui until every vote is counted', async () => {
    const server = await start();
    const gui = client(server);
    await gui.index('client_status', 0, isReady);
    const userAt = await gui.index('whatsapp_user');
    expect(CompatServerEvents.whatsapp_user.parse(gui.events[userAt]?.payload)).toEqual({
      id: expect.stringMatching(/@s\.whatsapp\.net$/),
      name: expect.any(String),
    });
    const status = StatusResponse.parse((await get(server, '/status')).body);
    expect(status.status).toBe('ready');
    expect(status.user?.id).toMatch(/@s\.whatsapp\.net$/);

    const allChats = GetChatsResponse.parse((await get(server, '/get-chats')).body).chats;
    expect(allChats.some((c) => !c.isGroup)).toBe(true);
    // The sandbox accepts messages to its groups, but only to a few of the contacts listed.
    const chats = allChats.filter((c) => c.isGroup);
    expect(chats.length).toBeGreaterThan(1);

    const options = ['Red', 'Green', 'Blue'];
    const sent = new Map<string, { chatId: string; multi: boolean }>();
    for (const [i, chat] of chats.entries()) {
      const multi = i % 2 === 0;
      const res = await post(server, '/send-poll', {
        chatId: chat.id,
        question: `Colour ${i}?`,
        options,
        allowMultipleAnswers: multi,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const body = SendPollResponse.parse(res.body);
      expect(body.message).toBe('Poll sent successfully!');
      sent.set(body.pollMsgId, { chatId: chat.id, multi });
    }

    for (const [pollMsgId, { chatId, multi }] of sent) {
      const at = await gui.index(
        'new_poll_sent',
        0,
        (p) => (p as { pollMsgId?: string }).pollMsgId === pollMsgId,
      );
      const { pollData } = CompatServerEvents.new_poll_sent.parse(gui.events[at]?.payload);
      expect(pollData).toMatchObject({
        options,
        optionHashes: Object.fromEntries(options.map((o) => [optionHash(o), o])),
        chatId,
        selectableCount: multi ? 0 : 1,
      });
      expect(Math.abs(pollData.timestamp - Date.now())).toBeLessThan(60_000);
    }

    // The latest pushed state of each poll, as the GUI keeps it.
    const latest = (): Map<string, PollData> => {
      const out = new Map<string, PollData>();
      for (const p of gui.payloads('poll_update_to_gui')) {
        const { pollMsgId, ...data } = CompatServerEvents.poll_update_to_gui.parse(p);
        out.set(pollMsgId, data);
      }
      return out;
    };
    const matches = (truth: Record<string, Record<string, string[]>>) => {
      const now = latest();
      return [...sent.keys()].every((id) => {
        const state = now.get(id);
        const votes = truth[id];
        if (!state || !votes || Object.keys(votes).length === 0) return false;
        const want = expectedView(options, votes);
        return (
          JSON.stringify(sorted(state.voters)) === JSON.stringify(sorted(want.voters)) &&
          JSON.stringify(state.results) === JSON.stringify(want.results)
        );
      });
    };
    // Done when the network has nothing left to send for these polls (pending 0) and the
    // pushed states equal what it cast; no settle window.
    const probe = new SandboxProbe(server.sandboxChannel);
    probes.push(probe);
    const truth = await probe.settled([...sent.keys()]);
    await gui.until(() => matches(truth), 'the pushed states to equal the ledger', 20_000);

    for (const [pollMsgId, { multi }] of sent) {
      const updates = gui
        .payloads('poll_update_to_gui')
        .map((p) => CompatServerEvents.poll_update_to_gui.parse(p))
        .filter((u) => u.pollMsgId === pollMsgId);
      for (const u of updates) {
        expect(Object.keys(u.results)).toEqual(options);
        expect(u.selectableCount).toBe(multi ? 0 : 1);
        if (!multi) for (const hashes of Object.values(u.voters)) expect(hashes).toHaveLength(1);
      }
    }
    const all = AllPollDataResponse.parse((await get(server, '/get-all-poll-data')).body).polls;
    for (const id of sent.keys()) {
      const want = expectedView(options, truth[id] ?? {});
      expect(sorted(all[id]?.voters ?? {})).toEqual(sorted(want.voters));
      expect(all[id]?.results).toEqual(want.results);
      expect(latest().get(id)).toEqual(all[id]);
    }

    // A client that connects now gets everything at once.
    const late = client(server);
    const initialAt = await late.index('initial_poll_data');
    expect(late.names().slice(0, 3)).toEqual([
      'client_status',
      'whatsapp_user',
      'initial_poll_data',
    ]);
    expect(CompatServerEvents.initial_poll_data.parse(late.events[initialAt]?.payload)).toEqual(
      all,
    );
  });

  it('answers every failure in the documented shape', async () => {
    const server = await start();
    const gui = client(server);
    await gui.index('client_status', 0, isReady);
    const body = { chatId: '120363999999999999@g.us', question: 'Q?', options: ['a', 'b'] };
    const cases: [string, number, RegExp, () => Promise<{ status: number; body: unknown }>][] = [
      ['malformed JSON', 400, /malformed JSON/, () => post(server, '/send-poll', '{"chatId":')],
      ['a missing field', 400, /allowMultipleAnswers/, () => post(server, '/send-poll', body)],
      [
        'duplicate options',
        400,
        /unique/,
        () =>
          post(server, '/send-poll', { ...body, options: ['a', 'a'], allowMultipleAnswers: true }),
      ],
      [
        'a body too large',
        413,
        /too large/,
        () => post(server, '/send-poll', { ...body, question: 'x'.repeat(100_000) }),
      ],
      [
        'a chat WhatsApp does not know',
        404,
        /^chat 120363999999999999@g.us not found/,
        () => post(server, '/send-poll', { ...body, allowMultipleAnswers: false }),
      ],
      ['an unknown route', 404, /Not found/, () => get(server, '/no-such-route')],
    ];
    for (const [what, status, message, run] of cases) {
      const res = await run();
      expect(res.status, what).toBe(status);
      const failure = FailureResponse.parse(res.body);
      expect(failure.message, what).toMatch(message);
      if (status >= 500) expect(failure.error, what).toEqual(expect.any(String));
    }
    expect(AllPollDataResponse.parse((await get(server, '/get-all-poll-data')).body).polls).toEqual(
      {},
    );
  });

  it('logs out, pushes logged_out and then a fresh QR without a restart; polls stay readable', async () => {
    const server = await start();
    const gui = client(server);
    await gui.index('client_status', 0, isReady);
    const { chats } = GetChatsResponse.parse((await get(server, '/get-chats')).body);
    const chat = chats.find((c) => c.isGroup)!;
    const sent = SendPollResponse.parse(
      (
        await post(server, '/send-poll', {
          chatId: chat.id,
          question: 'Still there?',
          options: ['yes', 'no'],
          allowMultipleAnswers: false,
        })
      ).body,
    );
    const before = gui.events.length;
    const res = await post(server, '/logout', '');
    expect(res.status).toBe(200);
    expect(LogoutResponse.parse(res.body).success).toBe(true);
    const outAt = await gui.index('client_status', before, (s) => s === 'logged_out');
    const qrAt = await gui.index('qr_code', outAt);
    expect(CompatServerEvents.qr_code.parse(gui.events[qrAt]?.payload)).not.toBe('');
    const all = AllPollDataResponse.parse((await get(server, '/get-all-poll-data')).body).polls;
    expect(all[sent.pollMsgId]?.question).toBe('Still there?');
  });
});
