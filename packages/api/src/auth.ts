import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCode, type FailureResponse, PollMastersError } from '@pollmasters/shared';
import type { RequestHandler } from 'express';
import type { Socket } from 'socket.io';

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/** The error every entry point answers a missing or wrong key with. */
export const unauthorized = (): PollMastersError =>
  new PollMastersError(
    ErrorCode.UNAUTHORIZED,
    'missing or wrong API key: send it as the X-API-Key header or Authorization: Bearer',
  );

/** The key of an HTTP request or upgrade: `X-API-Key`, else `Authorization: Bearer <key>`. */
export const keyOfHeaders = (headers: IncomingHttpHeaders): string | undefined => {
  const header = headers['x-api-key'];
  if (typeof header === 'string') return header;
  return /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1];
};

/**
 * The one API key check of every entry point (Express, Socket.IO, tRPC HTTP and WebSocket).
 *
 * The rule is by configuration, never by the caller's address: with a key configured, every
 * caller must present it (loopback ones too, e.g. behind a reverse proxy); without one, no
 * caller needs one, which config validation only allows on a loopback bind (see ./config.ts).
 * Keys are compared as SHA-256 digests with `timingSafeEqual`, so neither their content nor
 * their length leaks through timing.
 *
 * With a key, no route is open: `/healthz` and `/metrics` too need it (a health checker sends
 * `X-API-Key`), so that nothing about the session (status, counts) reaches a stranger.
 */
export class ApiKeyAuth {
  private readonly expected: Buffer | null;

  constructor(apiKey: string | undefined) {
    this.expected = apiKey ? digest(apiKey) : null;
  }

  /** Whether callers must present the key. */
  get required(): boolean {
    return this.expected !== null;
  }

  /** Whether a caller who presents `given` (undefined: nothing) may use the API. */
  accepts(given: unknown): boolean {
    if (!this.expected) return true;
    if (typeof given !== 'string' || given.length === 0) return false;
    return timingSafeEqual(digest(given), this.expected);
  }

  /** Whether an HTTP request or upgrade carries the key (`keyOfHeaders`). */
  acceptsRequest(req: IncomingMessage): boolean {
    return this.accepts(keyOfHeaders(req.headers));
  }

  /**
   * Express middleware, mounted before the routes that answer in the compat API's shape
   * (compat, health, metrics, export, sandbox): answers a refused request here, 401 with
   * `{success: false, message}` as JSON, whatever error handlers the app has or not yet has.
   * The edges with a shape of their own (tRPC, `/api`) check the key themselves.
   */
  http(): RequestHandler {
    const refusal: FailureResponse = { success: false, message: unauthorized().message };
    return (req, res, next) => {
      if (this.acceptsRequest(req)) next();
      else res.status(401).json(refusal);
    };
  }

  /** Socket.IO middleware (`io.use`): the key as `auth.apiKey` or in the handshake headers. */
  socket(): (socket: Socket, next: (err?: Error) => void) => void {
    return (socket, next) => {
      const { auth, headers } = socket.handshake;
      const fromAuth: unknown = auth?.apiKey;
      const given = typeof fromAuth === 'string' ? fromAuth : keyOfHeaders(headers);
      next(this.accepts(given) ? undefined : unauthorized());
    };
  }

  /**
   * Whether a WebSocket upgrade may proceed: a key in its headers must be right; without one
   * it may proceed only when `keyFollows`, i.e. the protocol sends the key after the upgrade
   * (Socket.IO's `auth`), where the next check happens. tRPC's upgrades do not come here:
   * its WebSockets are checked by ./trpc/wsGate.ts.
   */
  upgrade(req: IncomingMessage, keyFollows: boolean): boolean {
    if (!this.required) return true;
    const given = keyOfHeaders(req.headers);
    return given === undefined ? keyFollows : this.accepts(given);
  }
}

/**
 * Ends a refused upgrade with a plain 401, before any WebSocket exists, and destroys the socket
 * once the answer is out: the server allows half-open connections, so a client that never
 * closes its side would keep it open, and the server's close would wait for it.
 */
export const refuseUpgrade = (socket: Duplex): void => {
  socket.end(
    'HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n\r\nmissing or wrong key\n',
    () => socket.destroy(),
  );
};
