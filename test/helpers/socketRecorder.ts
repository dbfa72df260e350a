import type { Socket } from 'socket.io-client';

/** Every event one socket.io-client socket received, in order, with waits on them. */
export class Recorder {
  readonly events: { event: string; payload: unknown }[] = [];
  private readonly wakers = new Set<() => void>();

  constructor(readonly socket: Socket) {
    socket.onAny((event: string, payload: unknown) => {
      this.events.push({ event, payload });
      for (const wake of this.wakers) wake();
    });
  }

  names(): string[] {
    return this.events.map((e) => e.event);
  }

  payloads(event: string): unknown[] {
    return this.events.filter((e) => e.event === event).map((e) => e.payload);
  }

  /** Resolves once `check` returns a value; checks after every event, fails after `ms`. */
  until<T>(check: () => T | undefined | false, what: string, ms = 15_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const wake = () => {
        const value = check();
        if (value === undefined || value === false) return;
        this.wakers.delete(wake);
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.wakers.delete(wake);
        reject(new Error(`timed out waiting for ${what}; got ${this.names().join(', ')}`));
      }, ms);
      this.wakers.add(wake);
      wake();
    });
  }

  /** Index of the first `event` at or after `from` whose payload passes `test`, once it arrived. */
  index(
    event: string,
    from = 0,
    test: (payload: unknown) => boolean = () => true,
  ): Promise<number> {
    return this.until(() => {
      const i = this.events.findIndex((e, n) => n >= from && e.event === event && test(e.payload));
      return i >= 0 ? i + 1 : undefined;
    }, `${event} after #${from}`).then((i) => i - 1);
  }

  /** The payload of the `n`th `event` (1-based), once it arrived. */
  nth(event: string, n = 1): Promise<unknown> {
    return this.until(() => {
      const all = this.payloads(event);
      return all.length >= n ? { value: all[n - 1] } : undefined;
    }, `${event} #${n}`).then((box) => box.value);
  }
}
