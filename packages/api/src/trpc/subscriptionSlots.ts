import { errors } from '@pollmasters/shared';

/**
 * Caps the subscriptions held at once (per WebSocket connection, or over HTTP for the whole
 * server), so that no client can make the server keep an unbounded number of listeners and
 * queues.
 */
export class SubscriptionSlots {
  private used = 0;

  constructor(
    readonly limit: number,
    /** Says where the cap applies, in the refusal. */
    private readonly scope = 'per connection',
  ) {}

  get active(): number {
    return this.used;
  }

  /**
   * Takes a slot; returns the function that gives it back (idempotent).
   * @throws QUOTA_EXCEEDED when every slot is taken.
   */
  acquire(): () => void {
    if (this.used >= this.limit) {
      throw errors.quota(
        `at most ${this.limit} subscriptions ${this.scope}: stop one before starting another`,
      );
    }
    this.used += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= 1;
    };
  }
}
