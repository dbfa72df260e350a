import {
  AllPollDataResponse,
  CompatServerEvents,
  errors,
  FailureResponse,
  GetChatsResponse,
  LogoutResponse,
  type Poll,
  SendPollResponse,
  StatusResponse,
} from '@pollmasters/shared';
import { optionHash } from '@pollmasters/shared/node';
import { afterEach, describe, expect, it } from 'vitest';
import { Recorder } from '../../../test/helpers/socketRecorder.js';
import { Config } from '../src/config.js';
import { pollUpdateOf } from '../src/session/readModel.js';
import { startCompatServer } from './compatServer.js';
import { CHATS, FakeSession, QR, USER } from './fakeSession.js';

interface Fixture {
  url: string;
  session: FakeSession;
  client(): Promise<Recorder>;
}

/** `sha256sum` of each option's text -> that text, as the original server sent `optionHashes`. */
const LUNCH_HASHES = {
  f12958816a49adfa2c6c8de8dd2144c163e92c5e375de964d533187c7d236c36: 'Pizza',
  '670bd9ced0c6bc3fab9bcce97185cdb5a6c6008f0bb7a33c5e432b7faa0e27ed': 'Sushi',
  e209d05dba2181f66163d6e712abf2c16ec46607394bacf829f498adda336601: 'Salad',
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const start = async (coalesceMs = 30, apiKey?: string): Promise<Fixture> => {
  const session = new FakeSession();
  const server = await startCompatServer(
    session,
    { coalesceMs },
    Config.parse({ port: 0, logLevel: 'silent', apiKey }),
  );
  cleanups.push(server.close);
  const client = async () => {
    let recorder: Recorder | undefined;
    await server.client('connect', (socket) => {
      recorder = new Recorder(socket);
    });
    return recorder!;
  };
  return { url: server.url, session, client };
};

const request = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, init);
  const text = await res.text();
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return { status: res.status, body: JSON.parse(text) as unknown };
};
const post = (url: string, body: unknown) =>
  request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const pollBody = (over: Record<string, unknown> = {}) => ({
  chatId: CHATS[0]!.id,
  question: 'Lunch?',
  options: ['Pizza', 'Sushi', 'Salad'],
  allowMultipleAnswers: false,
  ...over,
});

describe('compat HTTP', () => {
  it('GET /status shows the QR only while pending and the user only when ready', async () => {
    const { url, session } = await start();
    expect((await request(`${url}/status`)).body).toEqual({ status: 'disconnected' });
    session.setState({ status: 'qr_pending', qr: QR, user: null });
    const pending = await request(`${url}/status`);
    expect(StatusResponse.parse(pending.body)).toEqual({ status: 'qr_pending', qrCode: QR });
    session.setState({ status: 'ready', qr: null, user: USER });
    const ready = await request(`${url}/status`);
    expect(ready.status).toBe(200);
    expect(StatusResponse.parse(ready.body)).toEqual({ status: 'ready', user: USER });
  });

  it('POST /send-poll maps allowMultipleAnswers to selectableCount and answers as documented', async () => {
    const { url, session } = await start();
    session.setState({ status: 'ready', qr: null, user: USER });
    const single = await post(`${url}/send-poll`, pollBody({ options: [' Pizza ', 'Sushi'] }));
    expect(single.status).toBe(200);
    const body = SendPollResponse.parse(single.body);
    expect(body).toEqual({
      success: true,
      message: 'Poll sent successfully!',
      pollMsgId: '3EB0POLL1',
    });
    const multi = await post(`${url}/send-poll`, pollBody({ allowMultipleAnswers: true }));
    expect(SendPollResponse.parse(multi.body).pollMsgId).toBe('3EB0POLL2');
    expect(session.sent.map((s) => s.selectableCount)).toEqual([1, 0]);
    expect(session.sent[0]?.options).toEqual(['Pizza', 'Sushi']);
  });

  it('GET /get-chats, GET /get-all-poll-data and POST /logout answer as documented', async () => {
    const { url, session } = await start();
    session.setState({ status: 'ready', qr: null, user: USER });
    const chats = await request(`${url}/get-chats`);
    expect(GetChatsResponse.parse(chats.body)).toEqual({ success: true, chats: CHATS });

    const { pollMsgId } = SendPollResponse.parse(
      (await post(`${url}/send-poll`, pollBody({ allowMultipleAnswers: true }))).body,
    );
    session.vote(pollMsgId, '15550000003@s.whatsapp.net', ['Pizza', 'Salad']);
    session.vote(pollMsgId, '100000000000009@lid', ['Pizza']);
    const all = AllPollDataResponse.parse((await request(`${url}/get-all-poll-data`)).body);
    expect(Object.keys(all.polls)).toEqual([pollMsgId]);
    const data = all.polls[pollMsgId]!;
    expect(data).toMatchObject({
      question: 'Lunch?',
      options: ['Pizza', 'Sushi', 'Salad'],
      optionHashes: LUNCH_HASHES,
      results: { Pizza: 2, Sushi: 0, Salad: 1 },
      voters: {
        '15550000003@s.whatsapp.net': [optionHash('Pizza'), optionHash('Salad')],
        '100000000000009@lid': [optionHash('Pizza')],
      },
      chatId: CHATS[0]!.id,
      selectableCount: 0,
    });
    expect(Math.abs(data.timestamp - Date.now())).toBeLessThan(60_000);
    // In the order of `options`, so a client may also walk the two side by side.
    expect(Object.values(data.optionHashes)).toEqual(data.options);
    // A client looks each voter's hashes up in optionHashes.
    expect(data.voters['15550000003@s.whatsapp.net']!.map((h) => data.optionHashes[h])).toEqual([
      'Pizza',
      'Salad',
    ]);

    const logout = await post(`${url}/logout`, '');
    expect(logout.status).toBe(200);
    expect(LogoutResponse.parse(logout.body).message).toMatch(/logged out/i);
    // Polls stay readable after a logout.
    const after = AllPollDataResponse.parse((await request(`${url}/get-all-poll-data`)).body);
    expect(Object.keys(after.polls)).toEqual([pollMsgId]);
  });
});

describe('compat HTTP failures', () => {
  const expectFailure = (
    res: { status: number; body: unknown },
    status: number,
    message: RegExp,
  ) => {
    expect(res.status).toBe(status);
    const body = FailureResponse.parse(res.body);
    expect(body.message).toMatch(message);
    return body;
  };

  it('rejects malformed JSON with 400 and sends nothing', async () => {
    const { url, session } = await start();
    session.setState({ status: 'ready', qr: null, user: USER });
    expectFailure(await post(`${url}/send-poll`, '{"chatId": '), 400, /malformed JSON/);
    expectFailure(await post(`${url}/send-poll`, '"just a string"'), 400, /malformed JSON/);
    expect(session.sent).toEqual([]);
  });

  it.each([
    ['no body', undefined, /JSON body/],
    ['no chatId', pollBody({ chatId: undefined }), /chatId/],
    ['a chatId that is no JID', pollBody({ chatId: 'bob' }), /chatId: must be a WhatsApp JID/],
    ['an empty question', pollBody({ question: '  ' }), /question must not be empty/],
    ['no options', pollBody({ options: [] }), /options: give 1 to 12 options/],
    ['13 options', pollBody({ options: [...'abcdefghijklm'] }), /options: give 1 to 12 options/],
    ['an empty option', pollBody({ options: ['a', ' '] }), /options\.1: options must not be empty/],
    ['duplicate options', pollBody({ options: ['a', ' a'] }), /options must be unique/],
    ['no allowMultipleAnswers', pollBody({ allowMultipleAnswers: 'yes' }), /allowMultipleAnswers/],
  ])('rejects a poll with %s with 400 and sends nothing', async (_what, body, message) => {
    const { url, session } = await start();
    session.setState({ status: 'ready', qr: null, user: USER });
    const res =
      body === undefined
        ? await request(`${url}/send-poll`, { method: 'POST' })
        : await post(`${url}/send-poll`, body);
    expectFailure(res, 400, message);
    expect(session.sent).toEqual([]);
  });

  it('rejects a body over the size limit with 413', async () => {
    const { url, session } = await start();
    session.setState({ status: 'ready', qr: null, user: USER });
    const res = await post(`${url}/send-poll`, pollBody({ question: 'x'.repeat(70_000) }));
    expectFailure(res, 413, /too large/);
    expect(session.sent).toEqual([]);
  });

  it('answers 409 with a clear message while WhatsApp is not connected', async () => {
    const { url, session } = await start();
    session.setState({ status: 'qr_pending', qr: QR, user: null });
    expectFailure(await post(`${url}/send-poll`, pollBody()), 409, /not connected.*qr_pending/);
    expectFailure(await request(`${url}/get-chats`), 409, /not connected/);
    expect(session.sent).toEqual([]);
  });

  it('maps worker failures to 5xx with the cause as `error`', async () => {
    const { url, session } = await start();
    session.setState({ status: 'ready', qr: null, user: USER });
    session.sendError = errors.sendFailed('WhatsApp refused the message');
    const failed = expectFailure(await post(`${url}/send-poll`, pollBody()), 502, /Failed to send/);
    expect(failed.error).toBe('WhatsApp refused the message');
    session.sendError = errors.workerGone('the WhatsApp worker is restarting');
    const gone = expectFailure(await post(`${url}/send-poll`, pollBody()), 503, /Failed to send/);
    expect(gone.error).toMatch(/restarting/);
    session.sendError = errors.timeout('sendPoll', 60_000);
    expectFailure(await post(`${url}/send-poll`, pollBody()), 504, /Failed to send/);
    session.sendError = new TypeError('boom');
    expect(expectFailure(await post(`${url}/send-poll`, pollBody()), 500, /Failed/).error).toBe(
      'boom',
    );
    session.chatsError = errors.workerGone('gone');
    expectFailure(await request(`${url}/get-chats`), 503, /Failed to fetch chats/);
    session.logoutError = errors.sendFailed('logout refused');
    expectFailure(await post(`${url}/logout`, ''), 502, /Failed to log out/);
  });

  it('answers unknown routes and wrong methods with a JSON 404', async () => {
    const { url } = await start();
    expectFailure(await request(`${url}/nope`), 404, /Not found: GET \/nope/);
    expectFailure(await request(`${url}/send-poll`), 404, /Not found: GET \/send-poll/);
    expectFailure(await request(`${url}/status`, { method: 'DELETE' }), 404, /Not found/);
  });
});

describe('compat Socket.IO', () => {
  it('sends client_status, qr_code and initial_poll_data on connection while pending', async () => {
    const { session, client } = await start();
    session.setState({ status: 'qr_pending', qr: QR, user: null });
    const gui = await client();
    await gui.nth('initial_poll_data');
    expect(gui.events).toEqual([
      { event: 'client_status', payload: 'qr_pending' },
      { event: 'qr_code', payload: QR },
      { event: 'initial_poll_data', payload: {} },
    ]);
  });

  it('sends client_status, whatsapp_user and initial_poll_data on connection when ready', async () => {
    const { url, session, client } = await start();
    session.setState({ status: 'ready', qr: null, user: { id: '15550000001:4@s.whatsapp.net' } });
    const { pollMsgId } = SendPollResponse.parse((await post(`${url}/send-poll`, pollBody())).body);
    const gui = await client();
    const initial = CompatServerEvents.initial_poll_data.parse(await gui.nth('initial_poll_data'));
    expect(gui.names()).toEqual(['client_status', 'whatsapp_user', 'initial_poll_data']);
    expect(gui.payloads('client_status')).toEqual(['ready']);
    // The GUI reads `name`: without a push name it gets the number.
    expect(gui.payloads('whatsapp_user')).toEqual([
      { id: '15550000001:4@s.whatsapp.net', name: '15550000001' },
    ]);
    expect(Object.keys(initial)).toEqual([pollMsgId]);
    expect(initial[pollMsgId]?.selectableCount).toBe(1);
  });

  it('pushes every state change to every client; logout brings logged_out then a fresh QR', async () => {
    const { url, session, client } = await start();
    const [a, b] = [await client(), await client()];
    session.setState({ status: 'qr_pending', qr: QR, user: null });
    session.setState({ status: 'qr_pending', qr: `${QR}-2`, user: null });
    session.setState({ status: 'ready', qr: null, user: USER });
    for (const gui of [a, b]) {
      await gui.nth('whatsapp_user');
      expect(gui.events.slice(2)).toEqual([
        { event: 'client_status', payload: 'qr_pending' },
        { event: 'qr_code', payload: QR },
        { event: 'qr_code', payload: `${QR}-2` },
        { event: 'client_status', payload: 'ready' },
        { event: 'whatsapp_user', payload: USER },
      ]);
    }
    expect((await post(`${url}/logout`, '')).status).toBe(200);
    await a.nth('qr_code', 3);
    expect(a.events.slice(7)).toEqual([
      { event: 'client_status', payload: 'logged_out' },
      { event: 'client_status', payload: 'qr_pending' },
      { event: 'qr_code', payload: `${QR}-fresh` },
    ]);
  });

  it('sends new_poll_sent with the poll data after every send', async () => {
    const { url, session, client } = await start();
    session.setState({ status: 'ready', qr: null, user: USER });
    const gui = await client();
    const res = await post(`${url}/send-poll`, pollBody({ allowMultipleAnswers: true }));
    const { pollMsgId } = SendPollResponse.parse(res.body);
    const sent = CompatServerEvents.new_poll_sent.parse(await gui.nth('new_poll_sent'));
    expect(sent).toEqual({
      pollMsgId,
      pollData: {
        question: 'Lunch?',
        options: ['Pizza', 'Sushi', 'Salad'],
        optionHashes: LUNCH_HASHES,
        results: { Pizza: 0, Sushi: 0, Salad: 0 },
        voters: {},
        chatId: CHATS[0]!.id,
        timestamp: session.polls.get(pollMsgId)!.createdAt,
        selectableCount: 0,
      },
    });
  });

  it('coalesces poll_update_to_gui per poll: full, newest state, never older after newer', async () => {
    const { url, session, client } = await start(50);
    session.setState({ status: 'ready', qr: null, user: USER });
    const gui = await client();
    const ids: string[] = [];
    for (const question of ['One?', 'Two?']) {
      ids.push(
        SendPollResponse.parse((await post(`${url}/send-poll`, pollBody({ question }))).body)
          .pollMsgId,
      );
    }
    const voters = Array.from({ length: 40 }, (_, i) => `1555000${1000 + i}@s.whatsapp.net`);
    let last: Poll | undefined;
    for (const [i, voter] of voters.entries()) {
      for (const id of ids) last = session.vote(id, voter, [i % 3 === 0 ? 'Sushi' : 'Pizza']);
      // A stale state after a newer one must never reach the GUI.
      if (i === 10) session.emit('pollsUpdated', [pollUpdateOf({ ...last!, version: 1 })]);
    }
    const finalVersion = last!.version;
    await gui.until(
      () =>
        ids.every((id) =>
          gui.payloads('poll_update_to_gui').some((p) => {
            const u = p as { pollMsgId: string; voters: object };
            return u.pollMsgId === id && Object.keys(u.voters).length === voters.length;
          }),
        ),
      'the final state of both polls',
    );
    for (const id of ids) {
      const updates = gui
        .payloads('poll_update_to_gui')
        .map((p) => CompatServerEvents.poll_update_to_gui.parse(p))
        .filter((u) => u.pollMsgId === id);
      // 40 changes, synchronously: the leading push and one trailing push.
      expect(updates.length).toBeLessThanOrEqual(2);
      const counts = updates.map((u) => Object.keys(u.voters).length);
      expect(counts).toEqual([...counts].sort((x, y) => x - y));
      expect(updates.at(-1)).toMatchObject({
        pollMsgId: id,
        question: id === ids[0] ? 'One?' : 'Two?',
        options: ['Pizza', 'Sushi', 'Salad'],
        results: { Pizza: 26, Sushi: 14, Salad: 0 },
        selectableCount: 1,
        chatId: CHATS[0]!.id,
      });
      expect(session.polls.get(id)!.version).toBe(finalVersion);
    }
  });
});
