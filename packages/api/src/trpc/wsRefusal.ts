import type { TRPCError } from '@trpc/server';
import { handleKeepAlive } from '@trpc/server/adapters/ws';
import type { RawData, WebSocket } from 'ws';
import { encodeResponse, errorShape } from './errorResponse.js';
import { wsKeepAlive } from './wsSettings.js';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/** The ids of the calls in one message of tRPC's client: one call or a batch. */
const callIds = (data: RawData): { id: number | string; jsonrpc?: '2.0' }[] => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString());
  } catch {
    return [];
  }
  return (Array.isArray(parsed) ? parsed : [parsed]).flatMap((msg) => {
    if (!isRecord(msg) || msg.method === 'subscription.stop') return [];
    const { id } = msg;
    if (typeof id !== 'number' && typeof id !== 'string') return [];
    return [msg.jsonrpc === '2.0' ? { id, jsonrpc: '2.0' as const } : { id }];
  });
};

/**
 * Serves a WebSocket whose caller may not use the API: every call on it is answered with
 * `error` for its own id, and the connection stays open. tRPC's client takes an error for a
 * call's id as that call's end (a subscription's `onError`, once), whereas a refused upgrade
 * or a closed connection makes it reconnect, silently and for ever. Nothing of the router is
 * reached, so unknown procedures are refused alike.
 */
export const refuseCalls = (ws: WebSocket, error: TRPCError, first?: RawData): void => {
  const refusal = errorShape(error);
  const answer = (data: RawData) => {
    const text = data.toString();
    if (text === 'PONG') return;
    if (text === 'PING') return ws.send('PONG');
    for (const call of callIds(data)) ws.send(encodeResponse({ ...call, error: refusal }));
  };
  handleKeepAlive(ws, wsKeepAlive.pingMs, wsKeepAlive.pongWaitMs);
  ws.on('message', answer);
  if (first) answer(first);
};
