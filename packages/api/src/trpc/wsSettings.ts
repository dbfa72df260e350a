import { Limits } from '@pollmasters/shared';
import type { Logger } from 'pino';
import type { RawData } from 'ws';

/**
 * What every tRPC WebSocket shares, admitted or refused (./index.ts, ./wsGate.ts,
 * ./wsRefusal.ts): its settings, and how a client's breach of the protocol is told apart.
 */

/**
 * The largest WebSocket message: a batch of calls at the body limit each. tRPC's client sends
 * every call of one tick in one message, so that a few large `polls.send` at once are one
 * message of a few times the body limit (`ws` closes a connection that sends more with 1009).
 */
export const wsMaxPayload = Limits.batchMaxCalls * Limits.bodyMaxBytes;

/**
 * A message over the body limit: no caller without the key needs to send one (./wsGate.ts
 * closes its socket with 1009, as `ws` does past `wsMaxPayload` for every socket).
 */
export const isOverBodyLimit = (data: RawData): boolean => {
  const bytes = Array.isArray(data)
    ? data.reduce((sum, chunk) => sum + chunk.length, 0)
    : data.byteLength;
  return bytes > Limits.bodyMaxBytes;
};

/** How often admitted tRPC WebSockets are pinged, and how long a pong may take. */
export const wsKeepAlive = { enabled: true, pingMs: 30_000, pongWaitMs: 5_000 } as const;

/**
 * A client's breach of the WebSocket protocol, e.g. a message over `maxPayload`: `ws` closes
 * that connection (1009 for the size) and reports it as an `error` of the socket.
 */
export const isClientProtocolError = (err: unknown): boolean =>
  err instanceof Error && /^WS_ERR_/.test(String((err as { code?: unknown }).code));

/** The client's fault, not the server's: below error level. */
export const logClientError = (logger: Logger, err: unknown): void =>
  logger.debug({ err }, 'tRPC WebSocket closed: client error');

/** What the server spends at most on the tRPC WebSockets of callers without the key. */
export const refusedSocketLimits = {
  /** Refused sockets and ones whose key is still to come, held at once (./heldSockets.ts). */
  total: 64,
  perAddress: 8,
  /** Calls of one message answered with the refusal: as many as one batch may hold. */
  maxAnsweredCalls: Limits.batchMaxCalls,
  /** Send buffer past which a refused socket, which is not reading, is terminated. */
  maxBufferedBytes: 16 * 1024,
} as const;
