import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import { type ApiKeyAuth, keyOfHeaders, unauthorized } from '../auth.js';
import type { UpgradeTarget } from '../upgradeTarget.js';
import { toTRPCError } from './errors.js';
import { refuseCalls } from './wsRefusal.js';
import { logClientError, wsKeepAlive } from './wsSettings.js';

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
 * the upgrade's headers. A caller with it is `admit`ted to tRPC; any other gets UNAUTHORIZED
 * for each of its calls (./wsRefusal.ts), and nothing of the router.
 */
export const gateWebSocket =
  (auth: ApiKeyAuth, logger: Logger) =>
  (ws: WebSocket, req: IncomingMessage, target: UpgradeTarget, admit: () => void): void => {
    if (!auth.required) {
      admit();
      return;
    }
    // Until tRPC or the refusal has the socket: an `error` without a listener would throw.
    const onError = (err: Error) => logClientError(logger, err);
    ws.on('error', onError);
    const decide = (key: string | undefined, first?: RawData) => {
      if (auth.accepts(key)) {
        ws.off('error', onError);
        admit();
        return true;
      }
      logger.info(
        { remoteAddress: req.socket.remoteAddress },
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
      // tRPC reads its connectionParams from the first message: it gets that message too.
      if (decide(apiKeyOfParams(data) ?? headerKey, data)) ws.emit('message', data, isBinary);
    });
  };
