import { createHash } from 'node:crypto';
import { type BaileysEventMap, decryptPollVote, type WAMessage } from '@whiskeysockets/baileys';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createSandbox,
  prepareVotes,
  type Sandbox,
  SandboxProbe,
  syntheticPerson,
} from '../src/sandbox/index.js';
import type { PollSocket } from '../src/socket.js';
import { memoryAuth } from './fixtures.js';

const opened: Sandbox[] = [];
const sockets: PollSocket[] = [];
const probes: SandboxProbe[] = [];
let counter = 0;

afterEach(async () => {
  for (const probe of probes.splice(0)) probe.close();
  for (const sock of sockets.splice(0)) await sock.end(undefined);
  for (const sandbox of opened.splice(0)) sandbox.close();
});

/** QR, scan, 515, reconnect, open; collects every vote message the app is handed. */
async function linked() {
  const sandbox = createSandbox({
    qrScanDelayMs: 5,
    connectDelayMs: 1,
    autoVote: false,
    channelName: `sandbox-burst-${process.pid}-${counter++}`,
  });
  opened.push(sandbox);
  const auth = memoryAuth();
  const open = (): Promise<{ sock: PollSocket; votes: WAMessage[]; upserts: number[] }> =>
    new Promise((resolve) => {
      const sock = sandbox.makeWASocket({ auth });
      sockets.push(sock);
      const votes: WAMessage[] = [];
      const upserts: number[] = [];
      let wasOpen = false;
      sock.ev.process((events: Partial<BaileysEventMap>) => {
        const update = events['connection.update'];
        if (update?.connection === 'open') {
          wasOpen = true;
          resolve({ sock, votes, upserts });
        }
        // Only the close after pairing (515) reconnects: a test that ends the socket stays offline.
        if (update?.connection === 'close' && !wasOpen) resolve(open());
        const upsert = events['messages.upsert'];
        if (upsert?.type === 'notify') {
          upserts.push(upsert.messages.length);
          votes.push(...upsert.messages.filter((m) => m.message?.pollUpdateMessage));
        }
      });
    });
  return { sandbox, ...(await open()) };
}

const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('sandbox vote bursts', () => {
  it('casts real encrypted votes of synthetic voters that Baileys decrypts, with exact expected counts', async () => {
    const { sandbox, sock, votes, upserts } = await linked();
    const chat = sandbox.world.chats.find((c) => c.kind === 'group' && c.addressingMode === 'lid')!;
    const pnGroup = sandbox.world.chats.find(
      (c) => c.kind === 'group' && c.addressingMode === 'pn',
    )!;
    const values = ['Red', 'Green', 'Blue'];
    const first = await sock.sendMessage(chat.id, {
      poll: { name: 'A', values, selectableCount: 0 },
    });
    const second = await sock.sendMessage(pnGroup.id, {
      poll: { name: 'B', values, selectableCount: 1 },
    });
    const polls = [first!, second!];
    const probe = new SandboxProbe(sandbox.options.channelName);
    probes.push(probe);

    const result = await probe.voteBurst(
      [
        { pollId: first!.key.id!, count: 120 },
        { pollId: second!.key.id!, count: 80 },
      ],
      { seed: 42, batchSize: 50 },
    );
    expect(votes).toHaveLength(200);
    expect(Math.max(...upserts)).toBe(50);
    expect(result.polls[first!.key.id!]?.voters).toBe(120);

    const tally = new Map<string, Map<string, number>>();
    const voters = new Set<string>();
    for (const vote of votes) {
      const update = vote.message!.pollUpdateMessage!;
      const pollId = update.pollCreationMessageKey!.id!;
      const poll = polls.find((p) => p.key.id === pollId)!;
      const lid = pollId === first!.key.id;
      // LID group: signed by our LID and the voter's LID, PN known as participantAlt.
      expect(vote.key.participant).toMatch(lid ? /@lid$/ : /@s\.whatsapp\.net$/);
      if (lid) expect(vote.key.participantAlt).toMatch(/@s\.whatsapp\.net$/);
      const decrypted = decryptPollVote(update.vote!, {
        pollCreatorJid: sandbox.world.me.lid,
        pollMsgId: pollId,
        pollEncKey: poll.message!.messageContextInfo!.messageSecret!,
        voterJid: vote.key.participant!,
      });
      const counts = tally.get(pollId) ?? new Map<string, number>();
      tally.set(pollId, counts);
      for (const hash of decrypted.selectedOptions ?? []) {
        const name = values.find((v) => sha(v) === Buffer.from(hash).toString('hex'))!;
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
      if (!lid) expect(decrypted.selectedOptions).toHaveLength(1);
      voters.add(`${pollId}/${vote.key.participant}`);
      expect(Number(update.senderTimestampMs)).toBeGreaterThanOrEqual(Math.floor(result.firstAt));
    }
    expect(voters.size).toBe(200);
    for (const poll of polls) {
      const expected = result.polls[poll.key.id!]!.counts;
      expect(Object.fromEntries(tally.get(poll.key.id!)!)).toEqual(
        Object.fromEntries(Object.entries(expected).filter(([, n]) => n > 0)),
      );
    }

    // lidMapping knows every synthetic voter, with the device suffix carried over.
    const person = syntheticPerson(42, 7);
    const mapping = sock.signalRepository.lidMapping;
    expect(await mapping.getPNForLID(person.lid)).toBe(person.pn);
    expect(await mapping.getLIDForPN(person.pn.replace('@', ':3@'))).toBe(
      person.lid.replace('@', ':3@'),
    );
    expect(await mapping.getPNForLID(syntheticPerson(43, 7).lid)).toBeNull();
  });

  it('stamps a throttled burst with each vote scheduled time', async () => {
    const { sandbox, sock, votes } = await linked();
    const chat = sandbox.world.chats.find((c) => c.kind === 'direct')!;
    const sent = await sock.sendMessage(chat.id, {
      poll: { name: 'Rate', values: ['x', 'y'], selectableCount: 1 },
    });
    const probe = new SandboxProbe(sandbox.options.channelName);
    probes.push(probe);
    const result = await probe.voteBurst([{ pollId: sent!.key.id!, count: 100 }], {
      seed: 1,
      ratePerSec: 1_000,
    });
    const stamps = votes.map((v) => Number(v.message!.pollUpdateMessage!.senderTimestampMs));
    expect(stamps).toHaveLength(100);
    stamps.forEach((ts, i) => {
      expect(ts).toBe(Math.floor(result.firstAt + i));
    });
    // 100 votes at 1,000/s take about 100 ms, not a single batch.
    expect(result.lastAt - result.firstAt).toBeGreaterThan(80);
  });

  it('answers an unknown poll with nothing, and a burst while offline with an error', async () => {
    const { sandbox, sock } = await linked();
    const chat = sandbox.world.chats[0]!;
    const sent = await sock.sendMessage(chat.id, { poll: { name: 'X', values: ['a', 'b'] } });
    const probe = new SandboxProbe(sandbox.options.channelName);
    probes.push(probe);
    await sock.end(undefined);
    await expect(
      probe.voteBurst([{ pollId: sent!.key.id!, count: 3 }], { seed: 2 }),
    ).rejects.toThrow(/online/);
    await expect(
      probe.voteBurst([{ pollId: 'nope', count: 3 }], { seed: 2, timeoutMs: 200 }),
    ).rejects.toThrow(/did not answer/);
  });

  it('refuses prepared votes whose packing does not add up, and delivers none of them', async () => {
    const { sandbox, sock, votes } = await linked();
    const chat = sandbox.world.chats[0]!;
    const sent = await sock.sendMessage(chat.id, { poll: { name: 'X', values: ['a', 'b'] } });
    const probe = new SandboxProbe(sandbox.options.channelName);
    probes.push(probe);
    const [keys] = await probe.burstKeys([sent!.key.id!]);
    const good = prepareVotes(keys!, 3, 4);
    await expect(probe.castPrepared([{ ...good, count: 5 }])).rejects.toThrow(
      /offsets must hold count \+ 1/,
    );
    await expect(probe.castPrepared([{ ...good, ivs: good.ivs.subarray(12) }])).rejects.toThrow(
      /12 bytes per vote/,
    );
    await expect(
      probe.castPrepared([{ ...good, payloads: good.payloads.subarray(1) }]),
    ).rejects.toThrow(/payloads end/);
    const backwards = Uint32Array.from(good.offsets);
    [backwards[1], backwards[2]] = [backwards[2]!, backwards[1]!];
    await expect(probe.castPrepared([{ ...good, offsets: backwards }])).rejects.toThrow(
      /every vote needs a payload/,
    );
    await expect(probe.castPrepared([good, good])).rejects.toThrow(/one set of prepared votes/);
    // Votes for a poll this network never carried: no network answers.
    await expect(
      probe.castPrepared([{ ...good, pollId: 'nope' }], { timeoutMs: 200 }),
    ).rejects.toThrow(/did not answer/);
    expect(votes).toHaveLength(0);
    // The same votes, whole, are delivered.
    await probe.castPrepared([good]);
    await vi.waitFor(() => expect(votes).toHaveLength(4));
  });
});
