import superjson from 'superjson';

/**
 * The wire format of the tRPC API (Dates, Maps, undefined survive the trip). The client
 * package uses the same transformer on each of its terminating links.
 * @see ../../../client/src/transformer.ts
 */
export const transformer = superjson;
