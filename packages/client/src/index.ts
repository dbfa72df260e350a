import type { AppRouter } from '@pollmasters/api/router';
import { createTRPCClient, createWSClient, type TRPCClient } from '@trpc/client';
import { WebSocket as NodeWebSocket } from 'ws';
import { pollMastersLinks, trpcEndpoints, wsKeyParams } from './links.js';

export type * from '@pollmasters/shared';
export { TRPCClientError } from '@trpc/client';
export { pollMastersLinks, trpcEndpoints } from './links.js';
export { listAllPolls, type PollPagesOptions, pollPages } from './pollPages.js';
export type { AppRouter };

export interface PollMastersClientOptions {
  /** The server, e.g. `http://127.0.0.1:3000`; tRPC lives under its `/trpc`. */
  url: string | URL;
  /**
   * Sent as `Authorization: Bearer <key>` over HTTP and as `connectionParams.apiKey` over ws.
   * Missing or wrong while the server has one: every call fails with UNAUTHORIZED, a
   * subscription in its `onError`, once, and it is not retried.
   */
  apiKey?: string;
  /**
   * The WebSocket class for subscriptions. Default: the global one (Node 22+, browsers),
   * else the `ws` package.
   */
  WebSocket?: typeof globalThis.WebSocket;
  /** Called when the subscription socket opens, closes or fails (e.g. to log reconnects). */
  onConnectionChange?: (state: 'open' | 'closed' | 'error') => void;
}

/** The typed tRPC client of PollMasters, plus `close()`. */
export type PollMastersClient = TRPCClient<AppRouter> & {
  /** Closes the subscription socket; HTTP calls need no closing. */
  close(): Promise<void>;
};

// Node 20 has no global WebSocket; `ws` implements the same interface.
const defaultWebSocket = (): typeof globalThis.WebSocket =>
  typeof globalThis.WebSocket === 'function'
    ? globalThis.WebSocket
    : (NodeWebSocket as unknown as typeof globalThis.WebSocket);

/**
 * Creates the typed client: subscriptions over one WebSocket (opened on the first
 * subscription, reconnected with backoff, each subscription resumed by its `lastEventId`),
 * queries and mutations over batched HTTP, superjson on both.
 * @example
 * ```ts
 * const client = createPollMastersClient({ url: 'http://127.0.0.1:3000' });
 * const { polls, nextCursor } = await client.polls.list.query(); // or listAllPolls(client)
 * await client.close();
 * ```
 */
export const createPollMastersClient = (options: PollMastersClientOptions): PollMastersClient => {
  const { apiKey } = options;
  const endpoints = trpcEndpoints(options.url);
  const wsClient = createWSClient({
    url: endpoints.ws,
    WebSocket: options.WebSocket ?? defaultWebSocket(),
    lazy: { enabled: true, closeMs: 5_000 },
    ...wsKeyParams(apiKey),
    onOpen: () => options.onConnectionChange?.('open'),
    onClose: () => options.onConnectionChange?.('closed'),
    onError: () => options.onConnectionChange?.('error'),
  });
  const client = createTRPCClient<AppRouter>({
    links: pollMastersLinks({ wsClient, httpUrl: endpoints.http, apiKey }),
  });
  const close = async () => {
    await wsClient.close();
  };
  // The client is a proxy of procedure paths; `close` is answered before it.
  return new Proxy(client, {
    get: (target, key, receiver) => (key === 'close' ? close : Reflect.get(target, key, receiver)),
  }) as PollMastersClient;
};
