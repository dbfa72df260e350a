import { optionHash } from '@pollmasters/shared/node';
import {
  type AuthenticationState,
  type BaileysEventMap,
  DisconnectReason,
  decryptPollVote,
  type WAMessage,
} from '@whiskeysockets/baileys';
import { afterEach, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox, type SandboxOptionsInput } from '../src/sandbox/index.js';
import type { PollSocket } from '../src/socket.js';
import { memoryAuth } from './fixtures.js';

// The sandbox's polls made elsewhere than through the app: on the phone, by members, and in the
// history sync of the first login; and a poll held back while its votes come.

const opened: { end(): void }[] = [];
afterEach(() => {
  for (const o of opened.splice(0)) o.end();
});

let channels = 0;
const sandboxWith = (options: SandboxOptionsInput): Sandbox => {
  const sandbox = createSandbox({
    qrScanDelayMs: 5,
    connectDelayMs: 1,
    voteDelayMs: { min: 5, max: 20 },
    channelName: `sandbox-creators-${process.pid}-${channels++}`,
    ...options,
  });
  opened.push({ end: () => sandbox.close() });
  return sandbox;
};

type Batch = Partial<BaileysEventMap>;

/** A socket of `sandbox` for `auth`, every batch it emitted, and a wait on them. */
const socketOf = (sandbox: Sandbox, auth: AuthenticationState) => {
  const sock: PollSocket = sandbox.makeWASocket({ auth });
  opened.push({ end: () => void sock.end(undefined) });
  const batches: Batch[] = [];
  const wakers = new Set<() => void>();
  sock.ev.process((batch) => {
    batches.push(batch);
    for (const wake of [...wakers]) wake();
  });
  const until = <T>(pick: (all: Batch[]) => T | undefined, ms = 5_000): Promise<T> =>
    new Promise((resolve, reject) => {
      const wake = () => {
        const found = pick(batches);
        if (found === undefined) return;
        wakers.delete(wake);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => reject(new Error('no such sandbox event')), ms);
      wakers.add(wake);
      wake();
    });
  const messages = (): WAMessage[] => batches.flatMap((b) => b['messages.upsert']?.messages ?? []);
  return { sock, batches, until, messages };
};

/** Pairs (QR scan, 515) and logs in again: the socket of the first login. */
const linked = async (sandbox: Sandbox, auth = memoryAuth()) => {
  const pairing = socketOf(sandbox, auth);
  const closed = await pairing.until((all) =>
    all.find((b) => b['connection.update']?.connection === 'close'),
  );
  expect(
    (closed['connection.update']?.lastDisconnect?.error as { output?: { statusCode?: number } })
      ?.output?.statusCode,
  ).toBe(DisconnectReason.restartRequired);
  const login = socketOf(sandbox, auth);
  const history = await login.until((all) => all.find((b) => b['messaging-history.set']));
  return { ...login, auth, history: history['messaging-history.set']! };
};

const hex = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('hex');

describe('sandbox polls made elsewhere', () => {
  it('sends the past in the history sync of the first login only, votes decrypted as the phone keeps them', async () => {
    const sandbox = sandboxWith({ historyPolls: 3 });
    const first = await linked(sandbox);
    expect(first.history.messages).toHaveLength(3);
    const polls = sandbox.polls();
    for (const msg of first.history.messages) {
      const poll = polls.find((p) => p.id === msg.key.id)!;
      expect(poll.history).toBe(true);
      expect(msg.key.fromMe).toBe(poll.origin === 'phone');
      // The secret is where a history message has it: at the message's top level.
      expect(Buffer.from(msg.messageSecret!).toString('base64')).toBe(poll.messageSecret);
      const updates = msg.pollUpdates ?? [];
      const cast = sandbox.ledger.all(poll.id);
      expect(updates.length).toBe(cast.filter((v) => v.selectedOptions.length > 0).length);
      for (const update of updates) {
        const vote = cast.find((v) => v.messageId === update.pollUpdateMessageKey?.id)!;
        expect(vote.history).toBe(true);
        expect((update.vote?.selectedOptions ?? []).map(hex)).toEqual(
          vote.selectedOptions.map(optionHash),
        );
      }
    }
    expect(polls.some((p) => p.origin === 'member')).toBe(true);
    expect(first.auth.creds.processedHistoryMessages).toHaveLength(1);

    first.sock.end(undefined);
    const again = socketOf(sandbox, first.auth);
    const next = await again.until((all) => all.find((b) => b['messaging-history.set']));
    expect(next['messaging-history.set']?.messages).toEqual([]);
  });

  it("delivers a member's poll as theirs; votes on it decrypt with the member as creator", async () => {
    const sandbox = sandboxWith({});
    const chat = sandbox.world.chats.find((c) => c.kind === 'group' && c.addressingMode === 'lid')!;
    const { until } = await linked(sandbox);
    const creator = chat.members[0]!;
    const poll = sandbox.createPoll({
      chatId: chat.id,
      creator: creator.pn,
      name: 'Theirs?',
      options: ['Yes', 'No'],
      selectableCount: 1,
    });
    const creation = await until((all) =>
      all.flatMap((b) => b['messages.upsert']?.messages ?? []).find((m) => m.key.id === poll.id),
    );
    expect(creation.key).toMatchObject({
      fromMe: false,
      participant: creator.lid,
      participantAlt: creator.pn,
    });
    expect(creation.message?.pollCreationMessageV3?.name).toBe('Theirs?');
    const vote = await until((all) =>
      all
        .flatMap((b) => b['messages.upsert']?.messages ?? [])
        .find((m) => m.message?.pollUpdateMessage?.pollCreationMessageKey?.id === poll.id),
    );
    const update = vote.message!.pollUpdateMessage!;
    expect(update.pollCreationMessageKey).toMatchObject({
      fromMe: false,
      participant: creator.lid,
    });
    const voter = chat.members.find((m) => m.lid === vote.key.participant)!;
    const decrypted = decryptPollVote(update.vote!, {
      pollCreatorJid: creator.lid,
      pollMsgId: poll.id,
      pollEncKey: Buffer.from(poll.messageSecret, 'base64'),
      voterJid: voter.lid,
    });
    expect(decrypted.selectedOptions).toHaveLength(1);
  });

  it('holds a poll back while its votes come, and delivers it on release', async () => {
    const sandbox = sandboxWith({});
    const chat = sandbox.world.chats.find((c) => c.kind === 'direct')!;
    const { until, messages } = await linked(sandbox);
    const poll = sandbox.createPoll({
      chatId: chat.id,
      name: 'Later?',
      options: ['A', 'B'],
      hold: true,
    });
    await until((all) =>
      all
        .flatMap((b) => b['messages.upsert']?.messages ?? [])
        .find((m) => m.message?.pollUpdateMessage?.pollCreationMessageKey?.id === poll.id),
    );
    expect(messages().some((m) => m.key.id === poll.id)).toBe(false);
    sandbox.releasePoll(poll.id);
    const creation = await until(() => messages().find((m) => m.key.id === poll.id));
    expect(creation.key).toMatchObject({ fromMe: true, remoteJid: chat.id });
    expect(() => sandbox.releasePoll(poll.id)).toThrow(/not held back/);
  });
});
