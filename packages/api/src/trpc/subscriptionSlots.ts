import { errors } from '@pollmasters/shared';

/**
 * Caps the subscriptions one WebSocket connection holds at once, so that one client cannot
 * make the server keep an unbounded number of listeners and queues.
 */
export class SubscriptionSlots {
  private used = 0;

  constructor(readonly limit: number) {}

  get active(): number {
    return this.used;
  }

  /**
   * Takes a slot; returns the function that gives it back (idempotent).
   * @throws LIMIT_EXCEEDED when every slot is taken.
   */
  acquire(): () => void {
    if (this.used >= this.limit) {
      throw errors.limit(
        `at most ${this.limit} subscriptions per connection: stop one before starting another`,
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
