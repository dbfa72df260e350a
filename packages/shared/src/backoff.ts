/** Exponential backoff with jitter: never a tight loop, never a thundering herd. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly baseMs = 1_000,
    private readonly maxMs = 60_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next try; each call doubles it up to the maximum, ±20 % jitter. */
  next(): number {
    const base = Math.min(this.maxMs, this.baseMs * 2 ** this.attempt);
    this.attempt += 1;
    return Math.round(base * (0.8 + this.random() * 0.4));
  }

  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}
