import { proto } from '@whiskeysockets/baileys';
import { openVote } from '../../packages/worker/src/votes/openVote.js';
import { native, openBatch, type Packed, pack } from './batch.js';
import { draw, polls } from './votes.js';

/**
 * Per-vote cost of today's path (openVote: TS HMAC + node:crypto AES-GCM + decode) against the
 * addon (TS HKDF + native AES-GCM, or both native), batches of 1, 50 and 500, alternated in one
 * process over many rounds; also the decode alone, which every path pays. Run under
 * `flock /tmp/bench.lock` so that no other benchmark shares the cores.
 */

const VOTES = 6000;
const ROUNDS = Number(process.env.ROUNDS ?? 25);
// Votes of POLLS polls (20 unless set) in random order: the native HKDF keeps the HMAC pads
// of the previous vote's poll only, so with 20 it recomputes them for about 19 votes in 20;
// 0 to 3 options each, as most polls' votes are.
const from = polls(Number(process.env.POLLS ?? 20));
const drawn = Array.from({ length: VOTES }, () => draw(from, 3));
const votes = drawn.map((d) => d.enc);
const contexts = drawn.map((d) => d.ctx);
const plaintexts = drawn
  .map((d) => openVote(d.enc, d.ctx))
  .map((v) => proto.Message.PollVoteMessage.encode(v).finish());

let sink = 0;
const variants: Record<string, () => void> = {
  'decode only': () => {
    for (const p of plaintexts)
      sink += proto.Message.PollVoteMessage.decode(p).selectedOptions.length;
  },
  openVote: () => {
    for (let i = 0; i < VOTES; i++)
      sink += openVote(votes[i]!, contexts[i]!).selectedOptions.length;
  },
};
for (const derive of [false, true]) {
  for (const size of [1, 50, 500]) {
    variants[`native ${derive ? 'HKDF+AES' : 'AES'} batch ${size}`] = () => {
      for (let at = 0; at < VOTES; at += size) {
        const read = openBatch(votes.slice(at, at + size), contexts.slice(at, at + size), derive);
        for (const v of read) sink += v!.selectedOptions.length;
      }
    };
  }
}

// The addon's call alone, on batches packed beforehand (copies of the reused buffers): what
// the C++ costs, apart from packing and decoding in JavaScript.
const copy = (args: Packed): Packed =>
  args.map((a) => (typeof a === 'boolean' ? a : a.slice())) as Packed;
for (const size of [1, 500]) {
  const packed: Packed[] = [];
  for (let at = 0; at < VOTES; at += size) {
    packed.push(copy(pack(votes.slice(at, at + size), contexts.slice(at, at + size), true)));
  }
  variants[`addon call only, batch ${size}`] = () => {
    for (const args of packed) native.openBatch(...args);
  };
}

const names = Object.keys(variants);
const times = new Map<string, number[]>(names.map((n) => [n, []]));
for (let round = -3; round < ROUNDS; round++) {
  // Each round runs every variant once, in a rotated order, so no variant always goes first.
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + Math.max(round, 0)) % names.length]!;
    const start = process.hrtime.bigint();
    variants[name]!();
    const us = Number(process.hrtime.bigint() - start) / 1000 / VOTES;
    if (round >= 0) times.get(name)!.push(us);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
process.stdout.write(
  `${VOTES} votes x ${ROUNDS} rounds, us per vote (median / best), sink ${sink}\n`,
);
for (const name of names) {
  const xs = times.get(name)!;
  process.stdout.write(
    `${name.padEnd(26)} ${median(xs).toFixed(2)} / ${Math.min(...xs).toFixed(2)}\n`,
  );
}
