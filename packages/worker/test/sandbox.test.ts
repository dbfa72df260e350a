import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import {
  type AuthenticationState,
  type BaileysEventMap,
  DisconnectReason,
  decryptPollVote,
  type WAMessage,
} from '@whiskeysockets/baileys';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createSandbox,
  type LedgerVote,
  type Sandbox,
  type SandboxOptionsInput,
  type WorldChat,
} from '../src/sandbox/index.js';
import type { PollSocket } from '../src/socket.js';
import { memoryAuth } from './fixtures.js';

type Recorded = {
  [K in keyof BaileysEventMap]: { name: K; data: BaileysEventMap[K] };
}[keyof BaileysEventMap];
type StatusError = Error & { output?: { statusCode?: number } };

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const hex = (bytes: Uint8Array | null | undefined): string =>
  Buffer.from(bytes ?? []).toString('hex');
const statusOf = (error: unknown): number | undefined =>
  (error as StatusError | undefined)?.output?.statusCode;

let channelCounter = 0;
const opened: Sandbox[] = [];
const sockets: PollSocket[] = [];

afterEach(async () => {
  for (const sock of sockets.splice(0)) await sock.end(undefined);
  for (const sandbox of opened.splice(0)) sandbox.close();
  vi.useRealTimers();
});

function sandboxWith(options: SandboxOptionsInput = {}): Sandbox {
  const sandbox = createSandbox({
    qrScanDelayMs: 20,
    connectDelayMs: 5,
    voteDelayMs: { min: 5, max: 30 },
    channelName: `sandbox-test-${process.pid}-${channelCounter++}`,
    ...options,
  });
  opened.push(sandbox);
  return sandbox;
}

/** Everything a socket emits, and a way to wait (with a timeout) until something shows up. */
function record(sock: PollSocket) {
  const events: Recorded[] = [];
  const waiters = new Set<() => void>();
  sock.ev.process((map) => {
    for (const [name, data] of Object.entries(map)) events.push({ name, data } as Recorded);
    for (const waiter of [...waiters]) waiter();
  });
  const waitFor = <T>(pick: (all: Recorded[]) => T | undefined, timeoutMs = 5_000): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = pick(events);
        if (found === undefined) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error('timed out waiting for a sandbox event'));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const updates = () => events.flatMap((e) => (e.name === 'connection.update' ? [e.data] : []));
  const closed = () =>
    waitFor((all) =>
      all.find((e) => e.name === 'connection.update' && e.data.connection === 'close'),
    ).then((e) => (e.data as BaileysEventMap['connection.update']).lastDisconnect?.error);
  const opened = () =>
    waitFor((all) =>
      all.find((e) => e.name === 'connection.update' && e.data.connection === 'open'),
    );
  return { events, waitFor, updates, closed, opened };
}

function connect(sandbox: Sandbox, auth: AuthenticationState, extra: object = {}) {
  const sock = sandbox.makeWASocket({ auth, ...extra });
  sockets.push(sock);
  return { sock, rec: record(sock) };
}

/** QR, scan, 515, reconnect, open: returns the open socket. */
async function link(sandbox: Sandbox, auth = memoryAuth()) {
  const first = connect(sandbox, auth);
  expect(statusOf(await first.rec.closed())).toBe(DisconnectReason.restartRequired);
  const second = connect(sandbox, auth);
  await second.rec.opened();
  return { ...second, auth };
}

function pollUpdates(events: Recorded[]): WAMessage[] {
  return events.flatMap((e) =>
    e.name === 'messages.upsert' && e.data.type === 'notify'
      ? e.data.messages.filter((m) => m.message?.pollUpdateMessage)
      : [],
  );
}

describe('sandbox connection lifecycle', () => {
  it('goes QR -> scan -> 515 -> reconnect -> open, like Baileys', async () => {
    const sandbox = sandboxWith();
    const auth = memoryAuth();
    const first = connect(sandbox, auth);
    const error = await first.rec.closed();
    expect(statusOf(error)).toBe(DisconnectReason.restartRequired);

    const names = first.rec.events.map((e) =>
      e.name === 'connection.update'
        ? (e.data.connection ?? (e.data.qr ? 'qr' : e.data.isNewLogin ? 'newLogin' : 'other'))
        : e.name,
    );
    expect(names).toEqual(['connecting', 'qr', 'creds.update', 'newLogin', 'close']);
    const qr = first.rec.updates().find((u) => u.qr)?.qr;
    expect(qr).toMatch(/^2@[A-Za-z0-9+/=]+(,[A-Za-z0-9+/=]+){3}$/);
    expect(auth.creds.registered).toBe(true);
    expect(auth.creds.me).toEqual({
      id: '15550000001:1@s.whatsapp.net',
      lid: '100000000000001:1@lid',
      name: sandbox.world.me.name,
    });

    const second = connect(sandbox, auth);
    await second.rec.opened();
    const history = await second.rec.waitFor((all) =>
      all.find((e) => e.name === 'messaging-history.set'),
    );
    expect(second.rec.updates()[0]?.connection).toBe('connecting');
    expect(second.sock.user).toMatchObject({ id: auth.creds.me?.id, lid: auth.creds.me?.lid });
    const data = history.data as BaileysEventMap['messaging-history.set'];
    for (const chat of sandbox.world.chats.filter((c) => c.kind === 'direct')) {
      expect(data.chats).toContainEqual(expect.objectContaining({ id: chat.id, name: chat.name }));
      const contact = chat.members[0]!;
      expect(data.contacts).toContainEqual(expect.objectContaining({ name: contact.name }));
    }
  });

  it('refreshes the QR until it is scanned, and pairs by code', async () => {
    const sandbox = sandboxWith({ qrScanDelayMs: 150 });
    const first = connect(sandbox, memoryAuth(), { qrTimeout: 20 });
    await first.rec.closed();
    const qrs = first.rec.updates().flatMap((u) => (u.qr ? [u.qr] : []));
    expect(qrs.length).toBeGreaterThanOrEqual(3);
    expect(new Set(qrs).size).toBe(qrs.length);

    const auth = memoryAuth();
    const paired = connect(sandbox, auth, { qrTimeout: 60_000 });
    await paired.rec.waitFor((all) => all.find((e) => e.name === 'connection.update' && e.data.qr));
    const code = await paired.sock.requestPairingCode('+1 555 000 0001');
    expect(code).toMatch(/^[A-Z0-9]{8}$/);
    expect(statusOf(await paired.rec.closed())).toBe(DisconnectReason.restartRequired);
    expect(auth.creds.registered).toBe(true);
  });

  it('logs out, drops, and refuses requests on a closed socket', async () => {
    const sandbox = sandboxWith();
    const { sock, rec, auth } = await link(sandbox);
    await expect(sock.sendMessage('123@g.us', { text: 'hi' })).rejects.toSatisfy(
      (e) => statusOf(e) === 404,
    );

    sandbox.dropConnection();
    expect(statusOf(await rec.closed())).toBe(DisconnectReason.connectionLost);
    await expect(sock.groupFetchAllParticipating()).rejects.toSatisfy(
      (e) => statusOf(e) === DisconnectReason.connectionClosed,
    );
    await expect(sock.sendMessage(sandbox.world.chats[0]!.id, { text: 'hi' })).rejects.toThrow(
      'Connection Closed',
    );

    const again = connect(sandbox, auth);
    await again.rec.opened();
    await again.sock.logout();
    expect(statusOf(await again.rec.closed())).toBe(DisconnectReason.loggedOut);
    // The network forgot this device: the same creds are refused.
    const refused = connect(sandbox, auth);
    expect(statusOf(await refused.rec.closed())).toBe(DisconnectReason.loggedOut);
  });

  it('works as a Baileys module from POLLMASTERS_SANDBOX, one network per process', async () => {
    const channelName = `sandbox-env-${process.pid}`;
    vi.stubEnv(
      'POLLMASTERS_SANDBOX',
      JSON.stringify({ qrScanDelayMs: 10, connectDelayMs: 1, channelName }),
    );
    const module = await import('../src/sandbox/index.js');
    expect(module.default).toBe(module.makeWASocket);
    const auth = memoryAuth();
    const first = module.makeWASocket({ auth });
    sockets.push(first);
    expect(statusOf(await record(first).closed())).toBe(DisconnectReason.restartRequired);
    // The reconnecting socket finds the same network, which remembers the pairing.
    const second = module.makeWASocket({ auth });
    sockets.push(second);
    await record(second).opened();
    expect(second.user?.id).toBe('15550000001:1@s.whatsapp.net');
    vi.unstubAllEnvs();
  });

  it('clears every timer on end', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
    });
    const sandbox = sandboxWith({ voteDelayMs: { min: 10_000, max: 20_000 } });
    const auth = memoryAuth();
    const first = connect(sandbox, auth);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(statusOf(await first.rec.closed())).toBe(DisconnectReason.restartRequired);
    const { sock, rec } = connect(sandbox, auth);
    await vi.advanceTimersByTimeAsync(100);
    await rec.opened();
    await sock.sendMessage(sandbox.world.chats[0]!.id, {
      poll: { name: 'Q', values: ['a', 'b'], selectableCount: 1 },
    });
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    await sock.end(undefined);
    sandbox.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('sandbox world', () => {
  it('has LID groups, a PN group, PN and LID direct chats, and one unmapped member', async () => {
    const sandbox = sandboxWith({ seed: 7 });
    const { sock } = await link(sandbox);
    const groups = await sock.groupFetchAllParticipating();
    const { world } = sandbox;
    expect(Object.keys(groups)).toHaveLength(3);
    const lidGroups = Object.values(groups).filter((g) => g.addressingMode === 'lid');
    expect(lidGroups).toHaveLength(2);
    const others = lidGroups.flatMap((g) => g.participants.filter((p) => p.id !== world.me.lid));
    expect(others.every((p) => p.id.endsWith('@lid'))).toBe(true);
    const unknown = others.filter((p) => !p.phoneNumber);
    expect(unknown).toHaveLength(1);

    const { lidMapping } = sock.signalRepository;
    expect(await lidMapping.getPNForLID(unknown[0]!.id)).toBeNull();
    const known = others.find((p) => p.phoneNumber)!;
    expect(await lidMapping.getPNForLID(known.id)).toBe(known.phoneNumber);
    expect(await lidMapping.getLIDForPN(known.phoneNumber!)).toBe(known.id);
    expect(await lidMapping.getPNForLID('100000000000001:1@lid')).toBe(
      '15550000001:1@s.whatsapp.net',
    );

    const direct = world.chats.filter((c) => c.kind === 'direct');
    expect(direct.filter((c) => c.id.endsWith('@s.whatsapp.net'))).toHaveLength(2);
    expect(direct.filter((c) => c.id.endsWith('@lid'))).toHaveLength(1);
    const pairs = world.chats.map((c) => `${c.signing.creator}/${c.signing.voter}`);
    expect(new Set(pairs)).toEqual(new Set(['lid/lid', 'lid/pn', 'pn/pn', 'pn/lid']));
  });

  it('is deterministic for a seed', () => {
    const a = sandboxWith({ seed: 42 }).world;
    const b = sandboxWith({ seed: 42 }).world;
    const c = sandboxWith({ seed: 43 }).world;
    expect(a).toEqual(b);
    expect(c.people.map((p) => p.lid)).not.toEqual(a.people.map((p) => p.lid));
  });
});

describe('sandbox polls and votes', () => {
  it('sends polls like Baileys and casts real encrypted votes that Baileys decrypts', async () => {
    const sandbox = sandboxWith({ seed: 3, changeRate: 0.6, withdrawRate: 0.4 });
    const casts: LedgerVote[] = [];
    const tap = new BroadcastChannel(sandbox.options.channelName);
    tap.onmessage = (event) => {
      const data = (event as MessageEvent).data;
      if (data?.type === 'cast') casts.push(data.vote);
    };
    try {
      const { sock, rec } = await link(sandbox);
      const { world } = sandbox;
      const values = ['Pizza', 'Sushi', 'Tacos 🌮', 'Curry'];
      const sent = new Map<string, { message: WAMessage; chat: WorldChat }>();
      for (const [index, chat] of world.chats.entries()) {
        const selectableCount = index % 2;
        const message = (await sock.sendMessage(chat.id, {
          poll: { name: `Dinner ${index}`, values, selectableCount },
        }))!;
        expect(message.key).toMatchObject({ remoteJid: chat.id, fromMe: true });
        const content = message.message!;
        const creation =
          selectableCount === 1 ? content.pollCreationMessageV3 : content.pollCreationMessage;
        expect(creation?.options?.map((o) => o.optionName)).toEqual(values);
        expect(
          selectableCount === 1 ? content.pollCreationMessage : content.pollCreationMessageV3,
        ).toBeFalsy();
        expect(content.messageContextInfo?.messageSecret).toHaveLength(32);
        sent.set(message.key.id!, { message, chat });
      }

      const echoes = await rec.waitFor((all) => {
        const found = all.flatMap((e) =>
          e.name === 'messages.upsert' && e.data.type === 'append' ? e.data.messages : [],
        );
        return found.length >= sent.size ? found : undefined;
      });
      expect(echoes.map((m) => m.key.id).sort()).toEqual([...sent.keys()].sort());
      expect(pollUpdates(rec.events).some((m) => sent.has(m.key.id!))).toBe(false);

      const planned = [...sent.keys()].reduce((n, id) => n + sandbox.plan(id)!.length, 0);
      const votes = await rec.waitFor((all) => {
        const found = pollUpdates(all);
        return found.length >= planned ? found : undefined;
      });
      expect(votes).toHaveLength(planned);

      const seenPairs = new Set<string>();
      const seenIds = new Set<string>();
      let redelivered = 0;
      for (const vote of votes) {
        const update = vote.message!.pollUpdateMessage!;
        const pollId = update.pollCreationMessageKey!.id!;
        const { message, chat } = sent.get(pollId)!;
        expect(update.pollCreationMessageKey).toMatchObject({ remoteJid: chat.id, fromMe: true });
        const entry = sandbox.ledger.all(pollId).find((v) => v.messageId === vote.key.id)!;
        const voter = chat.members.find((m) => m.lid === entry.voterLid)!;
        // The signing JIDs follow the chat, checked against the world, not the ledger.
        const creatorJid = chat.signing.creator === 'lid' ? world.me.lid : world.me.pn;
        const voterJid = chat.signing.voter === 'lid' ? voter.lid : voter.pn;
        expect([entry.creatorJid, entry.voterJid]).toEqual([creatorJid, voterJid]);
        seenPairs.add(`${chat.signing.creator}/${chat.signing.voter}`);

        const decrypted = decryptPollVote(update.vote!, {
          pollCreatorJid: creatorJid,
          pollMsgId: pollId,
          pollEncKey: message.message!.messageContextInfo!.messageSecret!,
          voterJid,
        });
        const hashes = decrypted.selectedOptions.map(hex);
        expect(hashes).toEqual(entry.selectedOptions.map(sha256));
        expect(hashes.every((h) => values.map(sha256).includes(h))).toBe(true);
        const creation =
          message.message!.pollCreationMessageV3 ?? message.message!.pollCreationMessage;
        if (hashes.length > 0 && creation === message.message!.pollCreationMessageV3) {
          expect(hashes).toHaveLength(1);
        }

        expect(vote.pushName).toBe(voter.name);
        expect(vote.messageTimestamp).toBe(Math.floor(Number(update.senderTimestampMs) / 1000));
        if (chat.kind === 'group' && chat.addressingMode === 'lid') {
          expect(vote.key).toMatchObject({
            remoteJid: chat.id,
            participant: voter.lid,
            addressingMode: 'lid',
          });
          expect(vote.key.participantAlt).toBe(voter.mappingKnown ? voter.pn : undefined);
        } else if (chat.kind === 'direct' && chat.addressingMode === 'pn') {
          expect(vote.key).toMatchObject({
            remoteJid: voter.pn,
            remoteJidAlt: voter.lid,
            fromMe: false,
          });
        }
        if (seenIds.has(vote.key.id!)) redelivered++;
        seenIds.add(vote.key.id!);
      }
      expect(seenPairs).toEqual(new Set(['lid/lid', 'lid/pn', 'pn/pn', 'pn/lid']));
      expect(redelivered).toBeGreaterThan(0);
      expect(casts.some((v) => v.selectedOptions.length === 0)).toBe(true);

      // The ledger's truth is a replay of the cast log: newest per voter, empty withdraws.
      await vi.waitFor(() => expect(casts).toHaveLength(planned));
      for (const pollId of sent.keys()) {
        const newest = new Map<string, LedgerVote>();
        for (const v of casts.filter((c) => c.pollId === pollId)) {
          const prior = newest.get(v.voterId);
          if (!prior || v.senderTimestampMs > prior.senderTimestampMs) newest.set(v.voterId, v);
        }
        const replay = Object.fromEntries(
          [...newest]
            .filter(([, v]) => v.selectedOptions.length > 0)
            .map(([id, v]) => [id, v.selectedOptions]),
        );
        expect(sandbox.ledger.expected(pollId)).toEqual(replay);
      }
      const unmapped = world.people.find((p) => !p.mappingKnown)!;
      expect(
        casts.filter((v) => v.voterLid === unmapped.lid).every((v) => v.voterId === unmapped.lid),
      ).toBe(true);

      const reply = new Promise<unknown>((resolve) => {
        tap.onmessage = (event) => {
          const data = (event as MessageEvent).data;
          if (data?.type === 'ledger' && data.requestId === 'r1') resolve(data.polls);
        };
      });
      tap.postMessage({ type: 'ledger', requestId: 'r1' });
      expect(await reply).toEqual(
        Object.fromEntries([...sent.keys()].map((id) => [id, sandbox.ledger.expected(id)])),
      );
    } finally {
      tap.close();
    }
  });

  it('plans the same votes for the same seed and poll', async () => {
    const plans = [];
    for (const seed of [11, 11, 12]) {
      const sandbox = sandboxWith({ seed, changeRate: 0.5, withdrawRate: 0.3 });
      const { sock } = await link(sandbox);
      const chat = sandbox.world.chats[0]!;
      const message = await sock.sendMessage(chat.id, {
        poll: { name: 'Same?', values: ['yes', 'no', 'maybe'], selectableCount: 0 },
      });
      plans.push(sandbox.plan(message!.key.id!));
    }
    expect(plans[0]).toEqual(plans[1]);
    expect(plans[0]).not.toEqual(plans[2]);
  });
});

describe('sandbox control and persistence', () => {
  it('takes control messages on its BroadcastChannel', async () => {
    const sandbox = sandboxWith({ autoVote: false });
    const { sock, rec, auth } = await link(sandbox);
    const chat = sandbox.world.chats.find((c) => c.kind === 'group' && c.addressingMode === 'lid')!;
    const message = await sock.sendMessage(chat.id, {
      poll: { name: 'Control', values: ['x', 'y'], selectableCount: 1 },
    });
    const pollId = message!.key.id!;
    const tap = new BroadcastChannel(sandbox.options.channelName);
    try {
      const voted = new Promise<LedgerVote>((resolve) => {
        tap.onmessage = (event) => {
          const data = (event as MessageEvent).data;
          if (data?.type === 'voted' && data.requestId === 7) resolve(data.vote);
        };
      });
      const voter = chat.members[0]!;
      tap.postMessage({ type: 'vote', pollId, voter: voter.pn, options: ['y'], requestId: 7 });
      expect(await voted).toMatchObject({ pollId, voterLid: voter.lid, selectedOptions: ['y'] });
      await rec.waitFor((all) => pollUpdates(all)[0]);

      tap.postMessage({ type: 'dropConnection' });
      expect(statusOf(await rec.closed())).toBe(DisconnectReason.connectionLost);
      // Votes cast while we are offline arrive when we are back.
      sandbox.vote(pollId, voter.lid, ['x']);
      const back = connect(sandbox, auth);
      const offline = await back.rec.waitFor((all) => pollUpdates(all)[0]);
      expect(offline.key.participant).toBe(voter.lid);

      tap.postMessage({ type: 'logoutFromPhone' });
      expect(statusOf(await back.rec.closed())).toBe(DisconnectReason.loggedOut);
    } finally {
      tap.close();
    }
  });

  it('remembers its polls and ledger across a restart with stateDir', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'pollmasters-sandbox-'));
    try {
      const before = sandboxWith({ stateDir, autoVote: false });
      const { sock, auth } = await link(before);
      const chat = before.world.chats.find((c) => c.kind === 'direct')!;
      const message = (await sock.sendMessage(chat.id, {
        poll: { name: 'Persist', values: ['a', 'b', 'c'], selectableCount: 0 },
      }))!;
      const pollId = message.key.id!;
      // Ended before its acknowledgement (ackDelayMs) reached the network: it comes again.
      const first = before.vote(pollId, chat.members[0]!.pn, ['a', 'c']);
      await sock.end(undefined);
      before.close();

      const after = sandboxWith({ stateDir, autoVote: false });
      expect(after.polls().map((p) => p.id)).toEqual([pollId]);
      expect(after.ledger.all(pollId)).toHaveLength(1);
      const { rec } = connect(after, auth);
      await rec.opened();
      const again = await rec.waitFor((all) => pollUpdates(all)[0]);
      expect(again.key.id).toBe(first.messageId);
      const second = after.vote(pollId, chat.members[0]!.lid, ['b']);
      const vote = await rec.waitFor((all) =>
        pollUpdates(all).find((m) => m.key.id === second.messageId),
      );
      const decrypted = decryptPollVote(vote.message!.pollUpdateMessage!.vote!, {
        pollCreatorJid: after.world.me.pn,
        pollMsgId: pollId,
        pollEncKey: message.message!.messageContextInfo!.messageSecret!,
        voterJid: chat.members[0]!.pn,
      });
      expect(decrypted.selectedOptions.map(hex)).toEqual([sha256('b')]);
      expect(after.ledger.expected(pollId)).toEqual({ [chat.members[0]!.pn]: ['b'] });
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
