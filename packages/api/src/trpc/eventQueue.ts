import { ErrorCode, PollMastersError } from '@pollmasters/shared';

/** Raised when a subscriber falls too far behind; it should resubscribe with its last id. */
export class QueueOverflowError extends PollMastersError {
  constructor(message: string) {
    super(ErrorCode.LIMIT_EXCEEDED, message);
  }
}

/**
 * A bounded FIFO between a synchronous producer (an event listener) and one async consumer.
 * A consumer that cannot keep up does not grow memory: once `limit` items wait, the queue
 * drops them all and the consumer's next read throws QueueOverflowError.
 */
export class EventQueue<T> {
  private items: T[] = [];
  private head = 0;
  private overflowed = false;
  private ended = false;
  private wake: (() => void) | null = null;
  private readonly onAbort = () => this.end();

  constructor(
    private readonly limit: number,
    private readonly signal?: AbortSignal,
  ) {
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (signal?.aborted) this.end();
  }

  /** Items waiting to be read. */
  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    if (this.ended || this.overflowed) return;
    if (this.size >= this.limit) {
      this.overflowed = true;
      this.items = [];
      this.head = 0;
    } else {
      this.items.push(item);
    }
    this.notify();
  }

  /** Ends the queue: the consumer reads what is left, then stops. */
  end(): void {
    this.ended = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    try {
      while (true) {
        if (this.overflowed) {
          throw new QueueOverflowError(
            `subscriber fell more than ${this.limit} events behind; resubscribe with lastEventId`,
          );
        }
        if (this.signal?.aborted) return;
        if (this.size > 0) {
          const item = this.items[this.head] as T;
          this.head += 1;
          if (this.head > 1024 && this.head * 2 > this.items.length) {
            this.items = this.items.slice(this.head);
            this.head = 0;
          }
          yield item;
          continue;
        }
        if (this.ended) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      this.end();
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
