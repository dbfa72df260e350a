import superjson from 'superjson';

/**
 * The wire format of the PollMasters tRPC API: the server's transformer, used on each
 * terminating link of the client (HTTP and WebSocket).
 * @see ../../api/src/trpc/transformer.ts
 */
export const transformer = superjson;
