import { jidDecode, jidEncode, proto, type WAMessage } from '@whiskeysockets/baileys';
import type { BurstKeys, PreparedVotes, SandboxEvent } from './channel.js';
import { memberKey, pollKeyOf } from './messages.js';
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

export interface BurstOptions {
  /** Votes per second, stamped with their scheduled time; as fast as possible when absent. */
  ratePerSec?: number | undefined;
  /** Votes per `messages.upsert` when unthrottled. */
  batchSize: number;
}

/** What a burst cast: the `burst` answer on the channel (./channel.ts), without its envelope. */
export type BurstResult = Omit<Extract<SandboxEvent, { type: 'burst' }>, 'type' | 'requestId'>;

/**
 * The wall clock, as the bench's clients read it in their own process when a vote arrives:
 * one clock for both ends of a latency (a per-process `performance.timeOrigin` is not).
 */
const now = (): number => Date.now();

/**
 * Encrypts one vote per synthetic voter, as their phones would (real keys, real AES-GCM, as
 * `cast` does): the work of the voters, done before and outside the burst, wherever the
 * caller likes (the bench does it in its own process).
 */
export function prepareVotes(keys: BurstKeys, seed: number, count: number): PreparedVotes {
  const random = new Random(deriveSeed(seed, 'burst', keys.pollId));
  const secret = Buffer.from(keys.messageSecret, 'base64');
  const counts: Record<string, number> = Object.fromEntries(keys.options.map((o) => [o, 0]));
  const chunks: Buffer[] = [];
  const ivs = Buffer.alloc(count * 12);
  const offsets = new Uint32Array(count + 1);
  for (let i = 0; i < count; i++) {
    const voter = syntheticPerson(seed, i);
    const selected = select(random, keys);
    for (const option of selected) counts[option] = (counts[option] ?? 0) + 1;
    const { encPayload, encIv } = encryptPollVote(selected, {
      pollMsgId: keys.pollId,
      pollEncKey: secret,
      pollCreatorJid: keys.creatorJid,
      voterJid: keys.voterForm === 'lid' ? voter.lid : voter.pn,
    });
    chunks.push(encPayload);
    encIv.copy(ivs, i * 12);
    offsets[i + 1] = offsets[i]! + encPayload.length;
  }
  return {
    pollId: keys.pollId,
    seed,
    count,
    payloads: Buffer.concat(chunks),
    offsets,
    ivs,
    counts,
  };
}

/**
 * Why prepared votes cannot be cast as they are; null when they can. The channel's schema
 * (`PreparedVotes`) has checked each field; this checks that they fit together, and is
 * answered to the caller as an error (an invalid channel message would just be ignored).
 */
export function preparedProblem(p: PreparedVotes): string | null {
  if (p.offsets.length !== p.count + 1) return 'offsets must hold count + 1 entries';
  if (p.ivs.length !== p.count * 12) return 'ivs must hold 12 bytes per vote';
  if (p.offsets[0] !== 0) return 'offsets must start at 0';
  if (p.offsets[p.count] !== p.payloads.length) return 'offsets must end at the payloads end';
  for (let i = 0; i < p.count; i++) {
    if (p.offsets[i]! >= p.offsets[i + 1]!) return 'every vote needs a payload';
  }
  return null;
}

export interface BurstTarget {
  poll: SentPoll;
  chat: WorldChat;
  votes: PreparedVotes;
}

/** The vote message as Baileys hands it to the app, stamped with `timestampMs`. */
function message(target: BurstTarget, index: number, timestampMs: number): WAMessage {
  const { poll, chat, votes } = target;
  const voter = syntheticPerson(votes.seed, index);
  const id = `3EB0${seedDigits(votes.seed)}${poll.id.slice(-6)}${String(index).padStart(9, '0')}`;
  return {
    key: memberKey(chat, voter, id),
    message: proto.Message.create({
      pollUpdateMessage: {
        pollCreationMessageKey: pollKeyOf(chat, poll),
        vote: {
          encPayload: votes.payloads.subarray(votes.offsets[index]!, votes.offsets[index + 1]!),
          encIv: votes.ivs.subarray(index * 12, index * 12 + 12),
        },
        senderTimestampMs: timestampMs,
      },
    }),
    messageTimestamp: Math.floor(timestampMs / 1000),
    pushName: voter.name,
  };
}

/**
 * Delivers each target's prepared votes, round-robin across the polls, in `messages.upsert`
 * batches through `deliver`. Throttled, every vote carries its scheduled
 * time as `senderTimestampMs` (so a stalled pipeline shows as latency rather than hiding
 * it); unthrottled, the time of its batch.
 */
export async function runBurst(
  targets: readonly BurstTarget[],
  options: BurstOptions,
  deliver: (messages: WAMessage[]) => void,
): Promise<BurstResult> {
  const order: [number, number][] = [];
  const most = Math.max(0, ...targets.map((t) => t.votes.count));
  for (let i = 0; i < most; i++) {
    for (let p = 0; p < targets.length; p++) if (i < targets[p]!.votes.count) order.push([p, i]);
  }
  const build = (k: number, ts: number) => {
    const [p, i] = order[k]!;
    return message(targets[p]!, i, ts);
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
  for (const { votes } of targets) {
    polls[votes.pollId] = { cast: votes.count, voters: votes.count, counts: votes.counts };
  }
  return { polls, firstAt, lastAt };
}
