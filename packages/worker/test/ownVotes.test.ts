import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PollTracking, type VotePollInput } from '@pollmasters/shared';
import { optionHash, type WorkerEvent } from '@pollmasters/shared/node';
import type { MessageRelayOptions, proto, WAMessage } from '@whiskeysockets/baileys';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSandbox, OWN_ACCOUNT, type Sandbox, SandboxProbe } from '../src/sandbox/index.js';
import { WhatsAppSession } from '../src/session.js';
import type { PollSocket, PollSocketConfig } from '../src/socket.js';
import { useSqliteAuthState } from '../src/store/authState.js';
import { SqliteChatStore } from '../src/store/chatStore.js';
import { openDatabase } from '../src/store/database.js';
import { SqliteEarlyVoteStore } from '../src/store/earlyVotes.js';
import { PollStore } from '../src/store/pollStore.js';
import { encryptVote } from '../src/votes/encryptVote.js';

const logger = pino({ level: 'silent' });
const OPTIONS = ['Pizza', 'Pasta', 'Salad'];
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

let channels = 0;

/** A session on an in-process sandbox whose members do not vote, with what it relayed. */
const start = async () => {
  const channelName = `own-votes-test-${process.pid}-${channels++}`;
  const sandbox: Sandbox = createSandbox({
    autoVote: false,
    qrScanDelayMs: 20,
    connectDelayMs: 5,
    channelName,
  });
  const probe = new SandboxProbe(channelName);
  const relayed: { jid: string; message: proto.IMessage; options: MessageRelayOptions }[] = [];
  let current: PollSocket | undefined;
  const makeSocket = (config: PollSocketConfig): PollSocket => {
    const sock = sandbox.makeWASocket(config);
    const relay = sock.relayMessage;
    sock.relayMessage = (jid, message, options) => {
      relayed.push({ jid, message, options });
      return relay(jid, message, options);
    };
    current = sock;
    return sock;
  };
  const dir = mkdtempSync(join(tmpdir(), 'pollmasters-own-votes-'));
  const db = openDatabase(dir, 's');
  const events: WorkerEvent[] = [];
  const session = new WhatsAppSession({
    makeSocket,
    auth: useSqliteAuthState(db),
    polls: PollStore.sqlite(db),
    chats: new SqliteChatStore(db),
    earlyVotes: new SqliteEarlyVoteStore(db),
    tracking: PollTracking.parse({}),
    emit: (e) => events.push(e),
    logger,
  });
  cleanups.push(() => {
    session.close();
    probe.close();
    sandbox.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  session.start();
  await vi.waitFor(() => expect(session.snapshot.status).toBe('ready'), { timeout: 10_000 });
  const chat = (kind: 'group' | 'direct', addressing: 'lid' | 'pn') =>
    sandbox.world.chats.find((c) => c.kind === kind && c.addressingMode === addressing)!.id;
  const sendPoll = (chatId: string, selectableCount = 1) =>
    session.sendPoll({ chatId, question: 'Lunch?', options: OPTIONS, selectableCount });
  const ownChanges = () =>
    events.flatMap((e) =>
      e.type === 'votes' ? e.changes.filter((c) => c.voter === OWN_ACCOUNT.pn) : [],
    );
  /** WhatsApp hands the relayed message back to us, as it would from another of our devices. */
  const echo = (i: number) => {
    const sent = relayed[i]!;
    const message: WAMessage = {
      key: {
        remoteJid: sent.jid,
        fromMe: true,
        id: sent.options.messageId!,
        participant: OWN_ACCOUNT.lid,
      },
      message: sent.message,
      messageTimestamp: 1,
    };
    current!.ev.emit('messages.upsert', { type: 'notify', messages: [message] });
  };
  return {
    sandbox,
    probe,
    session,
    events,
    relayed,
    chat,
    sendPoll,
    ownChanges,
    echo,
    socket: () => current!,
  };
};

const vote = (pollId: string, ...options: string[]): VotePollInput => ({ pollId, options });

describe('own votes', () => {
  it('sends an encrypted poll update that the members read, and counts it once', async () => {
    const t = await start();
    const poll = await t.sendPoll(t.chat('group', 'lid'));

    const result = await t.session.votePoll(vote(poll.id, 'Pasta'));
    expect(result.vote).toMatchObject({ voter: OWN_ACCOUNT.pn, selected: [optionHash('Pasta')] });
    expect(result.poll.voters.map((v) => [v.voter, v.selected])).toEqual([
      [OWN_ACCOUNT.pn, [optionHash('Pasta')]],
    ]);

    expect(t.relayed).toHaveLength(1);
    const { jid, message, options } = t.relayed[0]!;
    expect(jid).toBe(poll.chatId);
    expect(options.messageId).toBe(result.vote.messageId);
    expect(options.additionalNodes).toEqual([{ tag: 'meta', attrs: { polltype: 'vote' } }]);
    expect(message.pollUpdateMessage).toMatchObject({
      pollCreationMessageKey: { remoteJid: poll.chatId, fromMe: true, id: poll.id },
      senderTimestampMs: result.vote.timestampMs,
    });
    expect(JSON.stringify(message)).not.toContain('Pasta');

    // The members decrypted it with Baileys' decryptPollVote, signed as our LID in a LID group.
    expect(t.sandbox.ledger.all(poll.id)).toEqual([
      expect.objectContaining({
        messageId: result.vote.messageId,
        voterId: OWN_ACCOUNT.pn,
        creatorJid: OWN_ACCOUNT.lid,
        voterJid: OWN_ACCOUNT.lid,
        selectedOptions: ['Pasta'],
        senderTimestampMs: result.vote.timestampMs,
      }),
    ]);
    expect(t.ownChanges()).toHaveLength(1);
  });

  it('signs as our phone number in a PN-addressed direct chat', async () => {
    const t = await start();
    const poll = await t.sendPoll(t.chat('direct', 'pn'));
    await t.session.votePoll(vote(poll.id, 'Salad'));
    expect(t.sandbox.ledger.all(poll.id)).toEqual([
      expect.objectContaining({
        creatorJid: OWN_ACCOUNT.pn,
        voterJid: OWN_ACCOUNT.pn,
        selectedOptions: ['Salad'],
      }),
    ]);
    expect(t.session.snapshot.polls[0]!.voters.map((v) => v.voter)).toEqual([OWN_ACCOUNT.pn]);
  });

  it('replaces its vote on a change, withdraws it with an empty list; echoes count nothing', async () => {
    const t = await start();
    const poll = await t.sendPoll(t.chat('group', 'lid'), 0);
    const first = await t.session.votePoll(vote(poll.id, 'Pizza'));
    const second = await t.session.votePoll(vote(poll.id, optionHash('Salad'), 'Pasta'));
    expect(second.vote.timestampMs).toBeGreaterThan(first.vote.timestampMs);
    expect(second.vote.messageId).not.toBe(first.vote.messageId);
    expect(second.poll.voters.map((v) => v.selected)).toEqual([
      [optionHash('Pasta'), optionHash('Salad')],
    ]);

    // WhatsApp echoes both: the newest is the same vote again, the older one is ours too.
    const before = t.events.length;
    t.echo(1);
    t.echo(0);
    await t.session.votePoll(vote(poll.id, 'Pasta', 'Salad'));
    const during = t.events.slice(before);
    expect(during.filter((e) => e.type === 'voteRejected')).toEqual([]);
    expect(t.ownChanges()).toHaveLength(3);

    const withdrawn = await t.session.votePoll(vote(poll.id));
    expect(withdrawn.vote.selected).toEqual([]);
    expect(withdrawn.poll.voters).toEqual([]);
    expect(t.sandbox.ledger.expected(poll.id)).toEqual({});
    expect(t.sandbox.ledger.all(poll.id).map((v) => v.selectedOptions)).toEqual([
      ['Pizza'],
      ['Pasta', 'Salad'],
      ['Pasta', 'Salad'],
      [],
    ]);
  });

  it('sends nothing for an unknown poll, a selection that does not fit, or while not ready', async () => {
    const t = await start();
    const poll = await t.sendPoll(t.chat('group', 'pn'), 1);
    await expect(t.session.votePoll(vote('3EB0NOPE', 'Pizza'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    for (const bad of [['Sushi'], ['Pizza', 'Pasta'], ['Pizza', optionHash('Pizza')]]) {
      await expect(t.session.votePoll(vote(poll.id, ...bad))).rejects.toMatchObject({
        code: 'BAD_INPUT',
      });
    }
    // The session reconnects after a backoff of a second or more: not ready meanwhile.
    t.sandbox.dropConnection();
    await vi.waitFor(() => expect(t.session.snapshot.status).toBe('disconnected'));
    await expect(t.session.votePoll(vote(poll.id, 'Pizza'))).rejects.toMatchObject({
      code: 'NOT_READY',
    });
    expect(t.relayed).toEqual([]);
    expect(t.sandbox.ledger.all()).toEqual([]);
    expect(t.ownChanges()).toEqual([]);
  });
});

describe('the sandbox members', () => {
  it('show a vote they cannot read as undecryptable, and keep it out of the ledger', async () => {
    const t = await start();
    const poll = await t.sendPoll(t.chat('group', 'lid'));
    const secret = Buffer.from(
      t.sandbox.polls().find((p) => p.id === poll.id)!.messageSecret,
      'base64',
    );
    const relay = (messageId: string, voterJid: string, pollEncKey: Uint8Array = secret) =>
      t.socket().relayMessage(
        poll.chatId,
        {
          pollUpdateMessage: {
            pollCreationMessageKey: { remoteJid: poll.chatId, fromMe: true, id: poll.id },
            vote: encryptVote([optionHash('Pizza')], {
              pollMsgId: poll.id,
              pollEncKey,
              pollCreatorJid: OWN_ACCOUNT.lid,
              voterJid,
            }),
            senderTimestampMs: Date.now(),
          },
        },
        { messageId },
      );
    // Signed for someone else, and with another poll's secret: no phone can read either.
    await relay('BAD1', '4915100000000@s.whatsapp.net');
    await relay('BAD2', OWN_ACCOUNT.lid, new Uint8Array(32));
    await relay('GOOD', OWN_ACCOUNT.lid);
    await vi.waitFor(() => expect(t.probe.casts.map((c) => c.messageId)).toEqual(['GOOD']));
    await vi.waitFor(() =>
      expect(t.probe.undecryptable).toEqual([
        expect.objectContaining({ pollId: poll.id, messageId: 'BAD1' }),
        expect.objectContaining({ pollId: poll.id, messageId: 'BAD2' }),
      ]),
    );
    expect(t.probe.undecryptable[0]!.problem).toMatch(/no pair .* authenticates/);
    expect(t.sandbox.ledger.all(poll.id).map((v) => v.messageId)).toEqual(['GOOD']);
  });
});
