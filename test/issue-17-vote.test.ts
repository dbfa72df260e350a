import {
  createPollMastersClient,
  type PollMastersClient,
  TRPCClientError,
} from '@pollmasters/client';
import {
  AllPollDataResponse,
  ApiErrorResponse,
  type Poll,
  VotePollResult,
} from '@pollmasters/shared';
import { optionHash } from '@pollmasters/shared/node';
import { createSandbox, OWN_ACCOUNT, type WorldChat } from '@pollmasters/worker/sandbox';
import { afterEach, describe, expect, it } from 'vitest';
import { countedAsLedger } from './helpers/ledger.js';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { clientReady, sessionStatus } from './helpers/wait.js';

// Issue #17: the account votes from the API (tRPC `polls.vote`, `POST /api/polls/:id/vote`).

/** Members vote on every poll too, fast: the account's vote must count beside theirs. */
const SANDBOX = { voteDelayMs: { min: 10, max: 80 } };
const OPTIONS = ['Mon', 'Tue', 'Wed'];
const ME = OWN_ACCOUNT.pn;

/** The server's world: the same options (and seed) give the same chats. */
const world = (() => {
  const sandbox = createSandbox({ ...SANDBOX, channelName: `world-${process.pid}` });
  const { chats } = sandbox.world;
  sandbox.close();
  return chats;
})();
const chatOf = (kind: WorldChat['kind'], addressing: WorldChat['addressingMode']): string =>
  world.find((c) => c.kind === kind && c.addressingMode === addressing)!.id;

let server: TestServer | undefined;
let probe: SandboxProbe | undefined;
const clients: PollMastersClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  probe?.close();
  probe = undefined;
  await server?.destroy();
  server = undefined;
});

const start = async (config: { apiKey?: string } = {}) => {
  server = await startTestServer({ sandbox: SANDBOX, config });
  probe = new SandboxProbe(server.sandboxChannel);
  const client = createPollMastersClient({ url: server.url, ...config });
  clients.push(client);
  await clientReady(client);
  const sendPoll = async (chatId: string, selectableCount: number): Promise<string> => {
    const sent = await client.polls.send.mutate({
      chatIds: [chatId],
      question: 'Which day?',
      options: OPTIONS,
      selectableCount,
    });
    return sent.results[0]!.pollId!;
  };
  return { server, probe, client, sendPoll };
};

/** `POST /api/polls/:id/vote` with a raw body (JSON unless told otherwise). */
const postVote = (
  pollId: string,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) =>
  fetch(`${server!.url}/api/polls/${encodeURIComponent(pollId)}/vote`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const compatVoters = async (pollId: string) => {
  const res = await fetch(`${server!.url}/get-all-poll-data`);
  const data = AllPollDataResponse.parse(await res.json());
  return data.polls[pollId]?.voters;
};

const ownVotes = (pollId: string) =>
  probe!.casts.filter((c) => c.pollId === pollId && c.voterId === ME);

const ownSelection = (poll: Poll) => poll.voters.find((v) => v.voter === ME)?.selected;

describe('issue #17: voting from the API', () => {
  it('tRPC polls.vote in a LID-addressed group: counted once, as the members read it', async () => {
    const { client, sendPoll } = await start();
    const pollId = await sendPoll(chatOf('group', 'lid'), 1);

    const first = await client.polls.vote.mutate({ pollId, options: ['Tue'] });
    expect(first.vote).toMatchObject({ voter: ME, selected: [optionHash('Tue')] });
    expect(ownSelection(first.poll)).toEqual([optionHash('Tue')]);
    expect(ownSelection(await client.polls.get.query({ id: pollId }))).toEqual([optionHash('Tue')]);
    expect((await compatVoters(pollId))?.[ME]).toEqual([optionHash('Tue')]);
    // The members decrypted it, signed as our LID (creator and voter) in a LID group; what
    // the account counted is what the network cast, its own vote and the members' alike.
    // Settled means delivered; counted as the ledger says is what the server did with it.
    await countedAsLedger(server!.session, probe!, [pollId]);
    expect((await probe!.ledger()).polls[pollId]?.[ME]).toEqual(['Tue']);
    expect(ownVotes(pollId)).toEqual([
      expect.objectContaining({
        messageId: first.vote.messageId,
        creatorJid: OWN_ACCOUNT.lid,
        voterJid: OWN_ACCOUNT.lid,
        selectedOptions: ['Tue'],
      }),
    ]);

    // Changed by hash, then withdrawn: each time one vote of ours, as the network saw it.
    const changed = await client.polls.vote.mutate({ pollId, options: [optionHash('Wed')] });
    expect(ownSelection(changed.poll)).toEqual([optionHash('Wed')]);
    const withdrawn = await client.polls.vote.mutate({ pollId, options: [] });
    expect(withdrawn.vote.selected).toEqual([]);
    expect(ownSelection(withdrawn.poll)).toBeUndefined();
    expect((await compatVoters(pollId))?.[ME]).toBeUndefined();

    // Everyone's votes, ours included, as the network cast them.
    await countedAsLedger(server!.session, probe!, [pollId]);
    expect(ownVotes(pollId).map((v) => v.selectedOptions)).toEqual([['Tue'], ['Wed'], []]);
  });

  it('POST /api/polls/:id/vote in a PN direct chat: the vote and the poll state', async () => {
    const { client, sendPoll } = await start();
    const pollId = await sendPoll(chatOf('direct', 'pn'), 0);

    const res = await postVote(pollId, { options: ['Wed', optionHash('Mon')] });
    expect(res.status).toBe(200);
    const result = VotePollResult.parse(await res.json());
    expect(result.vote).toMatchObject({
      voter: ME,
      selected: [optionHash('Mon'), optionHash('Wed')],
    });
    expect(ownSelection(result.poll)).toEqual([optionHash('Mon'), optionHash('Wed')]);
    expect(ownSelection(await client.polls.get.query({ id: pollId }))).toEqual([
      optionHash('Mon'),
      optionHash('Wed'),
    ]);
    expect((await compatVoters(pollId))?.[ME]).toEqual([optionHash('Mon'), optionHash('Wed')]);
    await probe!.settled([pollId]);
    expect(ownVotes(pollId)).toEqual([
      expect.objectContaining({
        creatorJid: OWN_ACCOUNT.pn,
        voterJid: OWN_ACCOUNT.pn,
        selectedOptions: ['Mon', 'Wed'],
      }),
    ]);
    expect(probe!.undecryptable).toEqual([]);
  });

  it('refuses bad input with 400 or 404 and sends nothing', async () => {
    const { client, sendPoll } = await start();
    const pollId = await sendPoll(chatOf('group', 'lid'), 1);
    await client.polls.vote.mutate({ pollId, options: ['Mon'] });
    await countedAsLedger(server!.session, probe!, [pollId]);
    const before = await client.polls.get.query({ id: pollId });
    const casts = probe!.casts.length;

    const refusals: [unknown, number, string, RegExp][] = [
      [{ options: ['Fri'] }, 400, 'BAD_INPUT', /not an option of this poll: "Fri"/],
      [{ options: ['Mon', 'Tue'] }, 400, 'BAD_INPUT', /at most 1 option per vote; got 2/],
      [{ options: ['Tue', optionHash('Tue')] }, 400, 'BAD_INPUT', /given more than once: "Tue"/],
      [{ options: [''] }, 400, 'BAD_INPUT', /must not be empty/],
      [{ options: 'Mon' }, 400, 'BAD_INPUT', /options/],
      [{}, 400, 'BAD_INPUT', /options/],
      ['{"options": [', 400, 'BAD_INPUT', /malformed JSON/],
    ];
    for (const [body, status, code, message] of refusals) {
      const res = await postVote(pollId, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      const { error } = ApiErrorResponse.parse(await res.json());
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    }
    const unknown = await postVote('3EB0NOSUCHPOLL', { options: ['Mon'] });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      error: { code: 'NOT_FOUND', message: 'poll 3EB0NOSUCHPOLL not found' },
    });
    const longId = await postVote('3EB0'.repeat(100), { options: ['Mon'] });
    expect(longId.status).toBe(400);
    expect(ApiErrorResponse.parse(await longId.json()).error.message).toMatch(/pollId/);
    const plain = await postVote(pollId, 'options=Mon', { 'content-type': 'text/plain' });
    expect(plain.status).toBe(400);
    const tooBig = await postVote(pollId, { options: ['Mon'], pad: 'x'.repeat(70_000) });
    expect(tooBig.status).toBe(413);
    expect(ApiErrorResponse.parse(await tooBig.json()).error.code).toBe('LIMIT_EXCEEDED');
    const nowhere = await fetch(`${server!.url}/api/nowhere`);
    expect(nowhere.status).toBe(404);
    expect(ApiErrorResponse.parse(await nowhere.json()).error.code).toBe('NOT_FOUND');

    const trpcError = (options: string[], id = pollId) =>
      client.polls.vote.mutate({ pollId: id, options }).catch((e: unknown) => e);
    for (const [err, code] of [
      [await trpcError(['Fri']), 'BAD_REQUEST'],
      [await trpcError(['Mon', 'Wed']), 'BAD_REQUEST'],
      [await trpcError(Array(13).fill('Mon')), 'BAD_REQUEST'],
      [await trpcError(['Mon'], '3EB0NOSUCHPOLL'), 'NOT_FOUND'],
    ] as const) {
      expect(err).toBeInstanceOf(TRPCClientError);
      expect((err as { data?: { code?: string } }).data?.code).toBe(code);
    }

    // Nothing reached the network, nothing changed.
    expect(probe!.casts.length).toBe(casts);
    expect(await client.polls.get.query({ id: pollId })).toEqual(before);
  });

  it('answers NOT_READY (409) while WhatsApp is not connected, sending nothing', async () => {
    const { sendPoll } = await start();
    const pollId = await sendPoll(chatOf('direct', 'pn'), 1);
    // Reconnecting takes a backoff of at least 800 ms: not ready meanwhile.
    probe!.dropConnection();
    await sessionStatus(server!.session, 'disconnected');
    const res = await postVote(pollId, { options: ['Mon'] });
    expect(res.status).toBe(409);
    expect(ApiErrorResponse.parse(await res.json()).error.code).toBe('NOT_READY');
    // The network's own record: no vote of ours (its answer follows any cast it posted).
    expect((await probe!.ledger()).polls[pollId]?.[ME]).toBeUndefined();
    expect(ownVotes(pollId)).toEqual([]);
  });

  it('with an API key, refuses a vote without it in the API error shape', async () => {
    const apiKey = 'issue-17-vote-key-0123456789';
    const { sendPoll } = await start({ apiKey });
    const pollId = await sendPoll(chatOf('group', 'lid'), 1);
    const refused = await postVote(pollId, { options: ['Mon'] });
    expect(refused.status).toBe(401);
    expect(ApiErrorResponse.parse(await refused.json()).error.code).toBe('UNAUTHORIZED');
    const accepted = await postVote(
      pollId,
      { options: ['Mon'] },
      { 'content-type': 'application/json', 'x-api-key': apiKey },
    );
    expect(accepted.status).toBe(200);
    expect((await probe!.ledger()).polls[pollId]?.[ME]).toEqual(['Mon']);
  });
});
