import type { TRPCError } from '@trpc/server';
import { type RawData, WebSocket } from 'ws';
import { encodeResponse, errorShape } from './errorResponse.js';
import { refusedSocketLimits } from './wsSettings.js';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/**
 * The ids of the first `max` calls in one message of tRPC's client (one call or a batch); the
 * calls past them are not looked at.
 */
const callIds = (data: RawData, max: number): { id: number | string; jsonrpc?: '2.0' }[] => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString());
  } catch {
    return [];
  }
  const ids: { id: number | string; jsonrpc?: '2.0' }[] = [];
  for (const msg of Array.isArray(parsed) ? parsed : [parsed]) {
    if (ids.length >= max) break;
    if (!isRecord(msg) || msg.method === 'subscription.stop') continue;
    const { id } = msg;
    if (typeof id !== 'number' && typeof id !== 'string') continue;
    ids.push(msg.jsonrpc === '2.0' ? { id, jsonrpc: '2.0' } : { id });
  }
  return ids;
};

/**
 * Serves a WebSocket whose caller may not use the API: each call on it is answered with
 * `error` for its own id, and the connection stays open. tRPC's client takes an error for a
 * call's id as that call's end (a subscription's `onError`, once), whereas a refused upgrade
 * or a closed connection makes it reconnect, silently and for ever. Nothing of the router is
 * reached, so unknown procedures are refused alike.
 *
 * A caller without the key gets no more than it sends: the first calls of a message are
 * answered (as many as a batch may hold), the rest not, and a socket that does not read its
 * answers (its send buffer past a few KiB) is terminated. The server does not ping it: tRPC's
 * client ignores a server's PING, so the missing pong would close the socket and the client
 * would reconnect; its own PINGs are answered.
 */
export const refuseCalls = (ws: WebSocket, error: TRPCError, first?: RawData): void => {
  const refusal = errorShape(error);
  const send = (text: string) => {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > refusedSocketLimits.maxBufferedBytes) {
      ws.terminate();
      return;
    }
    ws.send(text);
  };
  const answer = (data: RawData) => {
    const text = data.toString();
    if (text === 'PONG') return;
    if (text === 'PING') return send('PONG');
    for (const call of callIds(data, refusedSocketLimits.maxAnsweredCalls)) {
      send(encodeResponse({ ...call, error: refusal }));
    }
  };
  ws.on('message', answer);
  if (first) answer(first);
};
