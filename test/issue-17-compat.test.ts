import { AllPollDataResponse, CompatServerEvents, type PollData } from '@pollmasters/shared';
import { optionHash } from '@pollmasters/shared/node';
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, expect, it } from 'vitest';
import { countedAsLedger } from './helpers/ledger.js';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer } from './helpers/server.js';
import { Recorder } from './helpers/socketRecorder.js';
import { worldOf } from './helpers/tracked.js';
import { sessionStatus } from './helpers/wait.js';

// Issue 17: the GUI's API carries the tracked polls of the session, whoever created them,
// with the poll data of the contract (docs/contract/backend-api-endpoints.txt) unchanged.

const SANDBOX = { voteDelayMs: { min: 10, max: 60 }, seed: 41, historyPolls: 2 };
const world = worldOf(SANDBOX);
const group = world.chats.find((c) => c.kind === 'group' && c.addressingMode === 'lid')!;
/** The fields of the contract's poll_data_object, no more. */
const POLL_DATA_KEYS = [
  'chatId',
  'optionHashes',
  'options',
  'question',
  'results',
  'selectableCount',
  'timestamp',
  'voters',
];

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What the GUI must show for a poll, from the ledger: voter -> hashes, option -> count. */
const compatView = (options: readonly string[], votes: Record<string, string[]>) => ({
  voters: Object.fromEntries(
    Object.entries(votes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([voter, names]) => [voter, names.map(optionHash).sort()]),
  ),
  results: Object.fromEntries(
    options.map((o) => [o, Object.values(votes).filter((names) => names.includes(o)).length]),
  ),
});
const viewOf = (data: PollData) => ({
  voters: Object.fromEntries(
    Object.entries(data.voters)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([voter, hashes]) => [voter, [...hashes].sort()]),
  ),
  results: data.results,
});

it("carries the history's, the phone's and the members' polls in poll data and events", async () => {
  const server = await startTestServer({ sandbox: SANDBOX, config: { trackPolls: 'all' } });
  const probe = new SandboxProbe(server.sandboxChannel);
  cleanups.push(
    () => server.destroy(),
    () => probe.close(),
  );
  await sessionStatus(server.session, 'ready', 15_000);
  const history = Object.keys((await probe.ledger()).creators);
  await countedAsLedger(server.session, probe, history);

  const socket: Socket = connect(server.url, { transports: ['websocket'], forceNew: true });
  cleanups.push(() => socket.disconnect());
  const gui = new Recorder(socket);
  const initial = CompatServerEvents.initial_poll_data.parse(await gui.nth('initial_poll_data'));
  expect(Object.keys(initial).sort()).toEqual([...history].sort());

  const made = [
    await probe.createPoll({ chatId: group.id, name: 'Phone?', options: ['P', 'Q'] }),
    await probe.createPoll({
      chatId: group.id,
      creator: group.members[1]!.lid,
      name: 'Member?',
      options: ['M', 'N'],
    }),
  ];
  for (const poll of made) {
    const at = await gui.index(
      'new_poll_sent',
      0,
      (p) => (p as { pollMsgId?: string }).pollMsgId === poll.id,
    );
    const { pollData } = CompatServerEvents.new_poll_sent.parse(gui.events[at]?.payload);
    expect(Object.keys(pollData).sort()).toEqual(POLL_DATA_KEYS);
    expect(pollData).toMatchObject({
      question: poll.name,
      options: poll.options,
      chatId: group.id,
    });
    await countedAsLedger(server.session, probe, [poll.id]);
  }

  const ledger = await probe.ledger();
  const res = await fetch(`${server.url}/get-all-poll-data`);
  const all = AllPollDataResponse.parse(await res.json()).polls;
  expect(Object.keys(all).sort()).toEqual([...history, ...made.map((p) => p.id)].sort());
  for (const [id, data] of Object.entries(all)) {
    expect(Object.keys(data).sort()).toEqual(POLL_DATA_KEYS);
    expect(viewOf(data)).toEqual(compatView(data.options, ledger.polls[id] ?? {}));
  }
  // The GUI's pushed state of each new poll reaches the same (pushes are coalesced: wait).
  for (const poll of made) {
    const last = () =>
      gui
        .payloads('poll_update_to_gui')
        .map((p) => CompatServerEvents.poll_update_to_gui.parse(p))
        .filter((u) => u.pollMsgId === poll.id)
        .at(-1);
    await gui.until(() => {
      const update = last();
      if (!update) return undefined;
      const { pollMsgId, ...data } = update;
      return JSON.stringify(data) === JSON.stringify(all[pollMsgId]) || undefined;
    }, `the pushed state of ${poll.name}`);
    expect(Object.keys(last()!).sort()).toEqual(['pollMsgId', ...POLL_DATA_KEYS].sort());
  }
});

it('lets HTTP clients make polls in the sandbox, and refuses bad requests clearly', async () => {
  const server = await startTestServer({
    sandbox: { ...SANDBOX, historyPolls: 0, autoVote: false },
    config: { trackPolls: 'all' },
  });
  cleanups.push(() => server.destroy());
  await sessionStatus(server.session, 'ready', 15_000);
  const post = async (path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  const refused = [
    await post('/sandbox/polls', { chatId: group.id, name: 'No options', options: [] }),
    await post('/sandbox/polls', { chatId: '1@g.us', name: 'Where?', options: ['A'] }),
    await post('/sandbox/polls', {
      chatId: group.id,
      creator: '1@lid',
      name: 'Who?',
      options: ['A'],
    }),
  ];
  for (const r of refused) {
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ success: false, message: expect.any(String) });
  }
  expect(await post('/sandbox/polls/NOPE/release')).toEqual({
    status: 404,
    body: { success: false, message: 'poll NOPE not found' },
  });
  expect(server.session.listPolls()).toEqual([]);

  const member = group.members[0]!;
  const made = await post('/sandbox/polls', {
    chatId: group.id,
    creator: member.pn,
    name: 'Over HTTP?',
    options: ['Yes', 'No'],
    hold: true,
  });
  expect(made.status).toBe(200);
  const pollId = (made.body.poll as { id: string }).id;
  expect((await post(`/sandbox/polls/${pollId}/release`)).body).toEqual({ success: true, pollId });
  const [{ creator }] = await countedAsLedger(
    server.session,
    new SandboxProbe(server.sandboxChannel),
    [pollId],
  );
  const ledger = (await (await fetch(`${server.url}/sandbox/ledger`)).json()) as {
    creators: Record<string, unknown>;
  };
  expect(ledger.creators[pollId]).toEqual({ jid: member.pn, fromMe: false });
  expect(creator).toEqual(ledger.creators[pollId]);
});
