import { jidDecode, jidEncode, proto, type WAMessage } from '@whiskeysockets/baileys';
import type { SandboxEvent } from './channel.js';
import { voteKey } from './messages.js';
import { select } from './plan.js';
import { deriveSeed, Random } from './random.js';
import type { SentPoll } from './store.js';
import { encryptPollVote } from './votes.js';
import type { Person, WorldChat } from './world.js';

/**
 * Synthetic voter `index` of burst `seed`: a person outside the world's member lists whose PN
 * and LID encode the seed and the index, so that `lidMapping` can answer for any number of
 * them without a table (see `syntheticMapping`).
 */
export function syntheticPerson(seed: number, index: number): Person {
  const s = seedDigits(seed);
  return {
    pn: `1999${s}${String(index).padStart(7, '0')}@s.whatsapp.net`,
    lid: `9${s}${String(index).padStart(11, '0')}@lid`,
    name: `Voter ${index + 1}`,
    mappingKnown: true,
  };
}

/** The three digits of a burst seed that its voters' JIDs carry. */
export const seedDigits = (seed: number): string => String(Math.abs(seed) % 1000).padStart(3, '0');
const SYNTHETIC_PN = /^1999(\d{3})(\d{7})$/;
const SYNTHETIC_LID = /^9(\d{3})(\d{11})$/;

/** `lidMapping` for the synthetic voters of the given burst seeds; null for anyone else. */
export function syntheticMapping(
  seeds: ReadonlySet<string>,
  jid: string,
  from: 'lid' | 's.whatsapp.net',
): string | null {
  const decoded = jidDecode(jid);
  if (!decoded || decoded.server !== from) return null;
  const match = (from === 'lid' ? SYNTHETIC_LID : SYNTHETIC_PN).exec(decoded.user);
  if (!match || !seeds.has(match[1]!)) return null;
  const person = syntheticPerson(Number(match[1]), Number(match[2]));
  const target = jidDecode(from === 'lid' ? person.pn : person.lid);
  return target ? jidEncode(target.user, target.server, decoded.device) : null;
}

export interface BurstTarget {
  poll: SentPoll;
  chat: WorldChat;
  /** Synthetic voters, each casting one vote. */
  count: number;
}

export interface BurstOptions {
  seed: number;
  /** Votes per second, stamped with their scheduled time; as fast as possible when absent. */
  ratePerSec?: number | undefined;
  /** Votes per `messages.upsert` when unthrottled. */
  batchSize: number;
}

/** What a burst cast: the `burst` answer on the channel (./channel.ts), without its envelope. */
export type BurstResult = Omit<Extract<SandboxEvent, { type: 'burst' }>, 'type' | 'requestId'>;

interface Prepared {
  target: BurstTarget;
  creatorJid: string;
  /** Encrypted payloads back to back; vote i is `payloads[offsets[i]..offsets[i + 1]]`. */
  payloads: Buffer;
  offsets: Uint32Array;
  /** 12 bytes per vote. */
  ivs: Buffer;
  counts: Record<string, number>;
}

const now = (): number => performance.timeOrigin + performance.now();

/**
 * Encrypts one vote per synthetic voter of each target poll (real keys, real AES-GCM, as
 * `cast` does), packed compactly; nothing is timed yet.
 */
function prepare(target: BurstTarget, seed: number): Prepared {
  const { poll, chat, count } = target;
  const random = new Random(deriveSeed(seed, 'burst', poll.id));
  const secret = Buffer.from(poll.messageSecret, 'base64');
  const creatorJid = chat.signing.creator === 'lid' ? poll.creatorLid : poll.creatorPn;
  const counts: Record<string, number> = Object.fromEntries(poll.options.map((o) => [o, 0]));
  const chunks: Buffer[] = [];
  const ivs = Buffer.alloc(count * 12);
  const offsets = new Uint32Array(count + 1);
  for (let i = 0; i < count; i++) {
    const voter = syntheticPerson(seed, i);
    const selected = select(random, poll);
    for (const option of selected) counts[option] = (counts[option] ?? 0) + 1;
    const { encPayload, encIv } = encryptPollVote(selected, {
      pollMsgId: poll.id,
      pollEncKey: secret,
      pollCreatorJid: creatorJid,
      voterJid: chat.signing.voter === 'lid' ? voter.lid : voter.pn,
    });
    chunks.push(encPayload);
    encIv.copy(ivs, i * 12);
    offsets[i + 1] = offsets[i]! + encPayload.length;
  }
  return { target, creatorJid, payloads: Buffer.concat(chunks), offsets, ivs, counts };
}

/** The vote message as Baileys hands it to the app, stamped with `timestampMs`. */
function message(p: Prepared, seed: number, index: number, timestampMs: number): WAMessage {
  const { poll, chat } = p.target;
  const voter = syntheticPerson(seed, index);
  const id = `3EB0${seedDigits(seed)}${poll.id.slice(-6)}${String(index).padStart(9, '0')}`;
  return {
    key: voteKey(chat, voter, id),
    message: proto.Message.create({
      pollUpdateMessage: {
        pollCreationMessageKey: { remoteJid: chat.id, fromMe: true, id: poll.id },
        vote: {
          encPayload: p.payloads.subarray(p.offsets[index]!, p.offsets[index + 1]!),
          encIv: p.ivs.subarray(index * 12, index * 12 + 12),
        },
        senderTimestampMs: timestampMs,
      },
    }),
    messageTimestamp: Math.floor(timestampMs / 1000),
    pushName: voter.name,
  };
}

/**
 * Casts `count` real encrypted votes on each target poll, round-robin across the polls, in
 * `messages.upsert` batches through `deliver`. Throttled, every vote carries its scheduled
 * time as `senderTimestampMs` (so a stalled pipeline shows as latency rather than hiding
 * it); unthrottled, the time of its batch.
 */
export async function runBurst(
  targets: readonly BurstTarget[],
  options: BurstOptions,
  deliver: (messages: WAMessage[]) => void,
): Promise<BurstResult> {
  const started = now();
  const cpuBefore = process.cpuUsage();
  const prepared = targets.map((t) => prepare(t, options.seed));
  const preparedMs = now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const preparedCpuUs = cpu.user + cpu.system;
  const order: [number, number][] = [];
  const most = Math.max(0, ...targets.map((t) => t.count));
  for (let i = 0; i < most; i++) {
    for (let p = 0; p < targets.length; p++) if (i < targets[p]!.count) order.push([p, i]);
  }
  const build = (k: number, ts: number) => {
    const [p, i] = order[k]!;
    return message(prepared[p]!, options.seed, i, ts);
  };

  let sent = 0;
  const firstAt = now();
  let lastAt = firstAt;
  const { ratePerSec } = options;
  while (sent < order.length) {
    const batch: WAMessage[] = [];
    if (ratePerSec) {
      const due = Math.min(order.length, Math.floor(((now() - firstAt) * ratePerSec) / 1000) + 1);
      for (; sent < due; sent++) {
        batch.push(build(sent, Math.floor(firstAt + (sent * 1000) / ratePerSec)));
      }
    } else {
      const ts = Math.floor(now());
      const end = Math.min(order.length, sent + options.batchSize);
      for (; sent < end; sent++) batch.push(build(sent, ts));
    }
    if (batch.length > 0) {
      lastAt = now();
      deliver(batch);
    }
    if (sent < order.length) {
      await new Promise<void>((resolve) =>
        ratePerSec ? setTimeout(resolve, 1) : setImmediate(resolve),
      );
    }
  }

  const polls: BurstResult['polls'] = {};
  for (const p of prepared) {
    polls[p.target.poll.id] = { cast: p.target.count, voters: p.target.count, counts: p.counts };
  }
  return { polls, firstAt, lastAt, preparedMs, preparedCpuUs };
}
