import type { IncomingMessage } from 'node:http';
import type { Principal } from '@pollmasters/shared';
import type { Logger } from 'pino';
import { type RawData, WebSocket } from 'ws';
import { admin } from '../access.js';
import { type ApiKeyAuth, keyOfHeaders, unauthorized } from '../auth.js';
import type { UpgradeTarget } from '../upgradeTarget.js';
import { toTRPCError } from './errors.js';
import { HeldSockets } from './heldSockets.js';
import { refuseCalls } from './wsRefusal.js';
import { isOverBodyLimit, logClientError, refusedSocketLimits, wsKeepAlive } from './wsSettings.js';

/** tRPC's client sends its `connectionParams` as the first message when its URL says so. */
const paramsFollow = ({ searchParams }: UpgradeTarget): boolean =>
  searchParams.get('connectionParams') === '1';

/** `connectionParams.apiKey` of tRPC's connectionParams message, if it has one. */
const apiKeyOfParams = (data: RawData): string | undefined => {
  try {
    const key: unknown = (JSON.parse(data.toString()) as { data?: { apiKey?: unknown } } | null)
      ?.data?.apiKey;
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
};

/**
 * The API key check of tRPC's WebSockets (../auth.ts), made once per connection: the key in
 * `connectionParams.apiKey` (the first message, when the URL has `connectionParams=1`) or in
 * the upgrade's headers. A caller with it is admitted to tRPC; any other gets UNAUTHORIZED
 * for each of its calls (./wsRefusal.ts), and nothing of the router. Sockets without the key,
 * refused or still to show it, are held within limits (./heldSockets.ts) and are not clients:
 * only admitted ones count (`admitted`, for `/healthz` and the metrics).
 */
export class WsGate {
  private readonly held: HeldSockets;
  private admittedCount = 0;
  private readonly principals = new WeakMap<WebSocket, Principal>();

  constructor(
    private readonly auth: ApiKeyAuth,
    private readonly logger: Logger,
  ) {
    this.held = new HeldSockets(refusedSocketLimits, (address) =>
      logger.debug(
        { remoteAddress: address },
        'tRPC WebSocket without the key closed: too many held',
      ),
    );
  }

  /** Open WebSockets admitted to tRPC. */
  get admitted(): number {
    return this.admittedCount;
  }

  /** Who the caller of an admitted WebSocket is, for its context (./context.ts). */
  readonly principalOf = (ws: WebSocket): Principal => {
    const principal = this.principals.get(ws);
    if (!principal) throw unauthorized();
    return principal;
  };

  /** Takes a new tRPC WebSocket: `admit` hands it to tRPC once its caller shows the key. */
  take(ws: WebSocket, req: IncomingMessage, target: UpgradeTarget, admit: () => void): void {
    const onAdmit = (principal: Principal) => {
      this.principals.set(ws, principal);
      this.admittedCount += 1;
      ws.once('close', () => {
        this.admittedCount -= 1;
      });
      admit();
    };
    if (!this.auth.required) {
      onAdmit(admin);
      return;
    }
    const address = req.socket.remoteAddress ?? '';
    this.held.hold(ws, address);
    // Until tRPC has the socket: an `error` without a listener would throw.
    const onError = (err: Error) => logClientError(this.logger, err);
    ws.on('error', onError);
    // Registered first: it closes the socket before the key check or the refusal reads it.
    const onMessage = (data: RawData) => {
      if (isOverBodyLimit(data)) ws.close(1009, 'message too big');
    };
    ws.on('message', onMessage);
    const decide = (key: string | undefined, first?: RawData) => {
      const principal = this.auth.principalOf(key);
      if (principal) {
        this.held.release(ws);
        ws.off('error', onError);
        ws.off('message', onMessage);
        onAdmit(principal);
        return true;
      }
      // Debug: each refusal is a caller's mistake, and a stranger could flood an info log.
      this.logger.debug(
        { remoteAddress: address },
        'tRPC WebSocket without the right API key: its calls are refused',
      );
      refuseCalls(ws, toTRPCError(unauthorized()), first);
      return false;
    };
    const headerKey = keyOfHeaders(req.headers);
    if (!paramsFollow(target)) {
      decide(headerKey);
      return;
    }
    // tRPC's client sends them as soon as it is open; one that never does is not kept.
    const silent = setTimeout(() => ws.terminate(), wsKeepAlive.pingMs);
    ws.once('close', () => clearTimeout(silent));
    ws.once('message', (data, isBinary) => {
      clearTimeout(silent);
      if (ws.readyState !== WebSocket.OPEN) return;
      // tRPC reads its connectionParams from the first message: it gets that message too.
      if (decide(apiKeyOfParams(data) ?? headerKey, data)) ws.emit('message', data, isBinary);
    });
  }
}
