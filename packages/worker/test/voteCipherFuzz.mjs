// Fuzzes a build of the vote cipher addon (its path: the first argument), for
// ./voteCipherAsan.test.ts, which runs it under AddressSanitizer: batches of real votes,
// authentic or tampered, each checked against what node:crypto sealed, and batches of random
// records, offsets and sizes, which must either throw a TypeError or open. Prints its counts
// as JSON; exits non-zero on a wrong answer (ASan aborts the process on a bad access).
import { createCipheriv, createHmac, randomBytes, randomInt } from 'node:crypto';
import { createRequire } from 'node:module';

const addon = createRequire(import.meta.url)(process.argv[2]);
const rounds = Number(process.argv[3] ?? 20_000);
const counts = { opened: 0, refused: 0, authentic: 0 };

/** A vote sealed as WhatsApp seals it, with the pseudo-random key given. */
const seal = (prk, id, creator, voter, plain) => {
  const info = Buffer.from(`${id}${creator}${voter}Poll Vote\u0001`);
  const key = createHmac('sha256', prk).update(info).digest();
  const iv = randomBytes(12);
  const aad = Buffer.from(`${id}\u0000${voter}`);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
  const payload = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return { iv, aad, info, payload };
};

const laidOut = () => {
  const n = randomInt(1, 20);
  const records = [];
  const expected = [];
  const ends = new Uint32Array(3 * n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const prk = randomBytes(32);
    const plain = randomBytes(randomInt(0, 200));
    const v = seal(
      prk,
      `3EB0${randomInt(1e9)}`,
      `${randomInt(1e6)}@lid`,
      `${randomInt(1e6)}@lid`,
      plain,
    );
    const tampered = randomInt(3) === 0;
    if (tampered) v.payload[randomInt(v.payload.length)] ^= 1 + randomInt(255);
    const record = Buffer.concat([prk, v.iv, v.aad, v.info, v.payload]);
    ends[3 * i] = at + 44 + v.aad.length;
    ends[3 * i + 1] = ends[3 * i] + v.info.length;
    ends[3 * i + 2] = at += record.length;
    records.push(record);
    expected.push(tampered ? null : plain);
  }
  const bytes = Buffer.concat(records);
  const ok = new Uint8Array(n);
  if (randomInt(4) === 0) {
    // One byte short of the batch: refused before anything is read or written.
    try {
      addon.openBatch(bytes, ends, Buffer.alloc(at - 1), ok);
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
      counts.refused++;
      return;
    }
    throw new Error('an output too short for the batch was taken');
  }
  const out = Buffer.alloc(at);
  addon.openBatch(bytes, ends, out, ok);
  counts.opened++;
  expected.forEach((plain, i) => {
    const from = ends[3 * i + 1];
    if (
      plain === null
        ? ok[i] !== 0
        : ok[i] !== 1 || !out.subarray(from, from + plain.length).equals(plain)
    ) {
      throw new Error(`vote ${i} of a batch answered wrongly`);
    }
    if (plain !== null) counts.authentic++;
  });
};

const anyhow = () => {
  const bytes = randomBytes(randomInt(0, 400));
  const ends = Uint32Array.from({ length: randomInt(0, 24) }, () => randomInt(0, 450));
  try {
    addon.openBatch(
      bytes,
      ends,
      new Uint8Array(randomInt(0, 450)),
      new Uint8Array(randomInt(0, 8)),
    );
    counts.opened++;
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    counts.refused++;
  }
};

for (let round = 0; round < rounds; round++) (round % 2 ? laidOut : anyhow)();
process.stdout.write(`${JSON.stringify(counts)}\n`);
