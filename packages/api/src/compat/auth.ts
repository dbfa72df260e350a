import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCode, PollMastersError } from '@pollmasters/shared';
import type { RequestHandler } from 'express';
import type { Socket } from 'socket.io';
import { isLoopback } from '../config.js';
import { toCompatFailure } from './errors.js';

const sameKey = (given: string, expected: string): boolean => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

const keyOfHeaders = (headers: IncomingHttpHeaders): string | undefined => {
  const header = headers['x-api-key'];
  if (typeof header === 'string') return header;
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '');
  return bearer?.[1];
};

/** Loopback clients stay keyless, so that the GUI works as it is. */
const isLoopbackAddress = (address: string | undefined): boolean =>
  address !== undefined && isLoopback(address.replace(/^::ffff:/, ''));

const unauthorized = () =>
  new PollMastersError(
    ErrorCode.UNAUTHORIZED,
    'missing or wrong API key: send it as the X-API-Key header (or Authorization: Bearer)',
  );

/** Requires `apiKey` from non-loopback HTTP clients; a no-op without a key. */
export const httpApiKeyGuard =
  (apiKey: string | undefined): RequestHandler =>
  (req, res, next) => {
    if (!apiKey || isLoopbackAddress(req.socket.remoteAddress)) return next();
    const given = keyOfHeaders(req.headers);
    if (given !== undefined && sameKey(given, apiKey)) return next();
    const failure = toCompatFailure(unauthorized());
    res.status(failure.status).json(failure.body);
  };

/** Requires `apiKey` in the Socket.IO handshake (`auth.apiKey` or the headers) off loopback. */
export const socketApiKeyGuard =
  (apiKey: string | undefined) =>
  (socket: Socket, next: (err?: Error) => void): void => {
    const { address, auth, headers } = socket.handshake;
    if (!apiKey || isLoopbackAddress(address)) {
      next();
      return;
    }
    const fromAuth: unknown = auth?.apiKey;
    const given = typeof fromAuth === 'string' ? fromAuth : keyOfHeaders(headers);
    next(given !== undefined && sameKey(given, apiKey) ? undefined : unauthorized());
  };
