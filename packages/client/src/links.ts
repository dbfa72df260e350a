import type { AppRouter } from '@pollmasters/api/router';
import { Limits, transformer } from '@pollmasters/shared';
import { httpBatchLink, splitLink, type TRPCLink, wsLink } from '@trpc/client';

type WsClient = Parameters<typeof wsLink<AppRouter>>[0]['client'];

/**
 * Where tRPC lives on a server: `<url>/trpc` over HTTP, and the same path over `ws:`/`wss:`.
 * Browser-safe, like the rest of this file: the web dashboard builds its client from it too.
 */
export const trpcEndpoints = (url: string | URL): { http: string; ws: string } => {
  const base = new URL(url);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const http = new URL('trpc', base);
  const ws = new URL(http);
  ws.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  return { http: http.toString(), ws: ws.toString() };
};

/** The `connectionParams` a WebSocket client sends: the key, when there is one. */
export const wsKeyParams = (apiKey: string | null | undefined) =>
  apiKey ? { connectionParams: { apiKey } } : {};

/**
 * The links of every PollMasters client: subscriptions over `wsClient` (resumed by their
 * `lastEventId` after a reconnect), queries and mutations over batched HTTP with the key as
 * `Authorization: Bearer`, superjson on both.
 */
export const pollMastersLinks = (options: {
  wsClient: WsClient;
  httpUrl: string;
  apiKey?: string | null;
}): TRPCLink<AppRouter>[] => [
  splitLink({
    condition: (op) => op.type === 'subscription',
    true: wsLink<AppRouter>({ client: options.wsClient, transformer }),
    false: httpBatchLink<AppRouter>({
      url: options.httpUrl,
      transformer,
      // The server takes no more calls in one request.
      maxItems: Limits.batchMaxCalls,
      ...(options.apiKey ? { headers: { authorization: `Bearer ${options.apiKey}` } } : {}),
    }),
  }),
];
