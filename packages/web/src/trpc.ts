import type { AppRouter } from '@pollmasters/api/router';
import { pollMastersLinks, trpcEndpoints, wsKeyParams } from '@pollmasters/client/links';
import { QueryClient } from '@tanstack/react-query';
import { createTRPCClient, createWSClient, TRPCClientError } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { setConnectionState } from './connection';

export type { AppRouter };

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/**
 * The typed client on the page's own server, with @pollmasters/client's links: queries and
 * mutations over batched HTTP, subscriptions over one WebSocket that reconnects with backoff
 * and resumes each subscription from its last tracked event id. The key goes as
 * `Authorization: Bearer` over HTTP and `connectionParams.apiKey` over the WebSocket.
 */
export const createClients = (apiKey: string | null) => {
  const endpoints = trpcEndpoints(window.location.origin);
  setConnectionState('connecting');
  const wsClient = createWSClient({
    url: endpoints.ws,
    ...wsKeyParams(apiKey),
    onOpen: () => setConnectionState('open'),
    onClose: () => setConnectionState('closed'),
  });
  const trpcClient = createTRPCClient<AppRouter>({
    links: pollMastersLinks({ wsClient, httpUrl: endpoints.http, apiKey }),
  });
  const queryClient = new QueryClient({
    defaultOptions: {
      queries: {
        // Live data comes by subscription; a refused key is not retried.
        retry: (count, error) => !isUnauthorized(error) && count < 2,
        refetchOnWindowFocus: false,
      },
    },
  });
  return { wsClient, trpcClient, queryClient };
};

/** tRPC's code of an error, if it is one of the API's. */
export const errorCode = (error: unknown): string | undefined =>
  error instanceof TRPCClientError
    ? (error.data as { code?: string } | undefined)?.code
    : undefined;

export const isUnauthorized = (error: unknown): boolean => errorCode(error) === 'UNAUTHORIZED';

/** A message for people: the server's own, which says what was wrong. */
export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);
