import type { EventEmitter } from 'node:events';
import type { SessionService } from '@pollmasters/api';
import type { PollMastersClient } from '@pollmasters/client';
import type { SessionStatus } from '@pollmasters/shared';

/**
 * Resolves with `check`'s first defined value, checked now and after every `event` of
 * `emitter`; rejects after `timeoutMs`.
 */
export const until = <T>(
  emitter: Pick<EventEmitter, 'on' | 'off'>,
  event: string,
  check: () => T | undefined,
  what: string,
  timeoutMs = 10_000,
): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const done = (fn: () => void) => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      fn();
    };
    const onEvent = () => {
      let value: T | undefined;
      try {
        value = check();
      } catch (err) {
        done(() => reject(err));
        return;
      }
      if (value !== undefined) done(() => resolve(value as T));
    };
    const timer = setTimeout(
      () => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))),
      timeoutMs,
    );
    emitter.on(event, onEvent);
    onEvent();
  });

/** Waits until the session reaches `status` (default `ready`). */
export const sessionStatus = (
  session: SessionService,
  status: SessionStatus = 'ready',
  timeoutMs = 10_000,
): Promise<true> =>
  until(
    session,
    'state',
    () => (session.sessionState.status === status ? true : undefined),
    `session status ${status}`,
    timeoutMs,
  );

/**
 * Waits, as a tRPC client sees it (on its `session.events` subscription), until the session
 * is ready; rejects after `timeoutMs`.
 */
export const clientReady = (client: PollMastersClient, timeoutMs = 15_000): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new Error(`session not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const sub = client.session.events.subscribe(
      {},
      {
        onData: ({ data }) => {
          if (data.state.status !== 'ready') return;
          clearTimeout(timer);
          sub.unsubscribe();
          resolve();
        },
        onError: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      },
    );
  });

/**
 * For state only visible by asking (HTTP answers, another process), where there is no event
 * to wait on: asks again every `intervalMs` until `check` returns a truthy value, and rejects
 * after `timeoutMs` with the last failure. A throwing or rejecting `check` counts as not yet.
 */
export const eventually = async <T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
  intervalMs = 25,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `; last failure: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
};

/**
 * Waits until the server at `url` (in another process) answers `GET /status` with `ready`;
 * `headers` carry its API key, if it has one.
 */
export const statusReady = (
  url: string,
  timeoutMs = 20_000,
  headers: Record<string, string> = {},
): Promise<true> =>
  eventually(
    `${url} to be ready`,
    async () => {
      const res = await fetch(`${url}/status`, { headers });
      const { status } = (await res.json()) as { status: string };
      return status === 'ready';
    },
    timeoutMs,
    50,
  );

/** Resolves or rejects as `promise` does, or rejects after `ms` naming what it waited for. */
export const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
