import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  ErrorCode,
  errors,
  type FailureResponse,
  PollMastersError,
  type Principal,
} from '@pollmasters/shared';
import type { RequestHandler } from 'express';
import type { Socket } from 'socket.io';
import { mayUseCompat } from './access.js';

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/** How a session's key is kept: its SHA-256 as hex (the registry's `keyHash`). */
export const keyHashOf = (key: string): string => digest(key).toString('hex');

/** The session whose key has this hash (`keyHashOf`), if any. */
export type ScopedKeyLookup = (keyHash: string) => string | undefined;

/** The refusal of a session's key where only `default` is served (the compat API). */
const compatForbidden = (): PollMastersError =>
  errors.forbidden('the compat API serves the session default: this key is for another session');

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
 * `X-API-Key`), so that nothing about the session (status, counts) reaches a stranger. The one
 * exception is the OpenAPI document and its page (./openapi/serve.ts), the same for every
 * server: the server lets them past this check.
 */
export class ApiKeyAuth {
  private readonly expected: Buffer | null;

  /**
   * `scopedKeys` finds the session of a session's own key (./session/scopedKeys.ts); such keys
   * count only when the server has a key: without one, every caller may use every session.
   */
  constructor(
    apiKey: string | undefined,
    private readonly scopedKeys: ScopedKeyLookup = () => undefined,
  ) {
    this.expected = apiKey ? digest(apiKey) : null;
  }

  /** Whether callers must present the key. */
  get required(): boolean {
    return this.expected !== null;
  }

  /**
   * Who a caller who presents `given` (undefined: nothing) is; null when refused. The
   * server's key is compared by digest in constant time; a session's key is found by its
   * digest as a whole, so its content does not leak through the lookup either.
   */
  principalOf(given: unknown): Principal | null {
    if (!this.expected) return { kind: 'admin' };
    if (typeof given !== 'string' || given.length === 0) return null;
    const given256 = digest(given);
    if (timingSafeEqual(given256, this.expected)) return { kind: 'admin' };
    const sessionId = this.scopedKeys(given256.toString('hex'));
    return sessionId === undefined ? null : { kind: 'session', sessionId };
  }

  /** Whether a caller who presents `given` may use the API (some of it, for a session's key). */
  accepts(given: unknown): boolean {
    return this.principalOf(given) !== null;
  }

  /** Who sent an HTTP request or upgrade, by its key (`keyOfHeaders`); null when refused. */
  principalOfRequest(req: IncomingMessage): Principal | null {
    return this.principalOf(keyOfHeaders(req.headers));
  }

  /** Whether an HTTP request or upgrade carries a key (`keyOfHeaders`) that is accepted. */
  acceptsRequest(req: IncomingMessage): boolean {
    return this.principalOfRequest(req) !== null;
  }

  /**
   * Express middleware, mounted before the routes that answer in the compat API's shape
   * (compat, health, metrics, export, sandbox): answers a refused request here, 401 with
   * `{success: false, message}` as JSON, whatever error handlers the app has or not yet has.
   * The edges with a shape of their own (tRPC, `/api`) check the key themselves.
   */
  http(): RequestHandler {
    const refusal: FailureResponse = { success: false, message: unauthorized().message };
    const forbidden: FailureResponse = { success: false, message: compatForbidden().message };
    return (req, res, next) => {
      const principal = this.principalOfRequest(req);
      if (!principal) res.status(401).json(refusal);
      else if (!mayUseCompat(principal)) res.status(403).json(forbidden);
      else next();
    };
  }

  /** Socket.IO middleware (`io.use`): the key as `auth.apiKey` or in the handshake headers. */
  socket(): (socket: Socket, next: (err?: Error) => void) => void {
    return (socket, next) => {
      const { auth, headers } = socket.handshake;
      const fromAuth: unknown = auth?.apiKey;
      const given = typeof fromAuth === 'string' ? fromAuth : keyOfHeaders(headers);
      const principal = this.principalOf(given);
      if (!principal) next(unauthorized());
      else next(mayUseCompat(principal) ? undefined : compatForbidden());
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
    if (given === undefined) return keyFollows;
    const principal = this.principalOf(given);
    return principal !== null && mayUseCompat(principal);
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
