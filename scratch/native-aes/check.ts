import { randomBytes, randomInt } from 'node:crypto';
import { decryptPollVote, proto } from '@whiskeysockets/baileys';
import type { VoteKeyContext } from '../../packages/worker/src/votes/encryptVote.js';
import { encryptVote } from '../../packages/worker/src/votes/encryptVote.js';
import { openVote } from '../../packages/worker/src/votes/openVote.js';
import { native, openBatch, type Sealed } from './batch.js';
import { draw, polls } from './votes.js';

/**
 * The prototype's correctness check: ./batch.ts (both modes, batches of 1 to 500) against
 * openVote (node:crypto, today's path) and Baileys' decryptPollVote, over random, wrong-pair
 * and tampered votes. Exits non-zero on the first disagreement.
 */

const hexOf = (v: proto.Message.PollVoteMessage | null): string =>
  v === null
    ? 'throws'
    : Buffer.from(proto.Message.PollVoteMessage.encode(v).finish()).toString('hex');
const attempt = (f: () => proto.Message.PollVoteMessage): string => {
  try {
    return hexOf(f());
  } catch {
    return 'throws';
  }
};

const tampered = (enc: Sealed): Sealed => {
  const payload = Buffer.from(enc.encPayload);
  const iv = Buffer.from(enc.encIv);
  const flip = randomInt(1, 256);
  if (randomInt(2)) payload[randomInt(payload.length)]! ^= flip;
  else iv[randomInt(iv.length)]! ^= flip;
  return { encPayload: payload, encIv: iv };
};

let checked = 0;
let authentic = 0;
const fail = (message: string): never => {
  process.stderr.write(`MISMATCH: ${message}\n`);
  process.exit(1);
};

const run = (count: number, unicode: boolean, most: number) => {
  const from = polls(8, unicode);
  const votes: Sealed[] = [];
  const contexts: VoteKeyContext[] = [];
  for (let i = 0; i < count; i++) {
    const d = draw(from, most);
    // Authentic (2 in 5), tampered, for another voter, or cut to under 16 bytes (1 in 5 each);
    // 1 in 20 authentic ones has a 16-byte iv, which the addon leaves to node:crypto.
    const kind = randomInt(5);
    let enc = d.enc;
    if (kind === 0 && randomInt(4) === 0) enc = encryptVote(d.hashes, d.ctx, randomBytes(16));
    else if (kind === 2) enc = tampered(d.enc);
    else if (kind === 4)
      enc = { ...d.enc, encPayload: d.enc.encPayload.subarray(0, randomInt(16)) };
    votes.push(enc);
    contexts.push(kind === 3 ? { ...d.ctx, voterJid: draw(from, 0).ctx.voterJid } : d.ctx);
  }
  const today = votes.map((v, i) => attempt(() => openVote(v, contexts[i]!)));
  const baileys = votes.map((v, i) => attempt(() => decryptPollVote(v, contexts[i]!)));
  for (const derive of [false, true]) {
    for (const size of [1, 7, 50, 500]) {
      for (let at = 0; at < count; at += size) {
        const read = openBatch(votes.slice(at, at + size), contexts.slice(at, at + size), derive);
        read.forEach((v, j) => {
          const i = at + j;
          const ours = hexOf(v);
          if (ours !== today[i])
            fail(`vote ${i} derive=${derive} size=${size}: ${ours} vs openVote ${today[i]}`);
          // Baileys takes a payload under 16 bytes as a short tag; openVote and the addon refuse it.
          if (votes[i]!.encPayload.length >= 16 && ours !== baileys[i])
            fail(`vote ${i}: Baileys ${baileys[i]}`);
          checked++;
          if (ours !== 'throws') authentic++;
        });
      }
    }
  }
};

run(3000, false, 12);
run(1000, true, 40);

// Bad input: offsets past their buffer are refused before any vote is read.
const out = Buffer.alloc(32, 7);
const ok = new Uint8Array(1);
let threw = '';
try {
  native.openBatch(
    false,
    Buffer.alloc(32),
    Buffer.alloc(12),
    Buffer.alloc(4),
    Uint32Array.of(9),
    Buffer.alloc(0),
    Uint32Array.of(0),
    Buffer.alloc(32),
    Uint32Array.of(32),
    out,
    ok,
  );
} catch (e) {
  threw = (e as Error).message;
}
if (!threw || !out.equals(Buffer.alloc(32, 7)) || ok[0] !== 0) fail('bad offsets were not refused');
process.stdout.write(
  `ok: ${checked} opens agree (${authentic} authentic), bad offsets refused (${threw})\n`,
);
