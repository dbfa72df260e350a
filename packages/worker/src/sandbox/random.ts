import { createHash } from 'node:crypto';

/**
 * A small seeded PRNG (mulberry32). The sandbox must replay the same world and the same
 * vote plans for a given seed, which `Math.random` cannot do.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length - 1)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  /** A copy of `items` in a random order (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }

  /** `length` decimal digits; the first is never 0 so the number keeps its width. */
  digits(length: number): string {
    let out = String(this.int(1, 9));
    while (out.length < length) out += String(this.int(0, 9));
    return out;
  }

  /** `length` upper-case hex characters, like the tail of a WhatsApp message id. */
  hex(length: number): string {
    let out = '';
    while (out.length < length) out += this.int(0, 15).toString(16);
    return out.toUpperCase();
  }
}

/**
 * Derives an independent seed from a base seed and some labels, so that adding a chat or a
 * poll does not shift every other random stream of the world.
 */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  const hash = createHash('sha256').update(String(seed));
  for (const label of labels) hash.update('\u0000').update(String(label));
  return hash.digest().readUInt32LE(0);
}
