/**
 * Runs changes one at a time per key (a session id), in the order they were asked for;
 * different keys run side by side. A failed change does not hold up the ones after it.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly onError: (err: unknown, key: string) => void) {}

  /** Resolves when `change` has run (never rejects: its error goes to `onError`). */
  run(key: string, change: () => Promise<void>): Promise<void> {
    const settled = (this.tails.get(key) ?? Promise.resolve())
      .then(change)
      .catch((err) => this.onError(err, key));
    this.tails.set(key, settled);
    void settled.then(() => {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    });
    return settled;
  }
}
