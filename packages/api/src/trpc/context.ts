import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Chat, Poll, SendPollInput, SessionState } from '@pollmasters/shared';
import type { CreateExpressContextOptions } from '@trpc/server/adapters/express';
import type { CreateWSSContextFnOptions } from '@trpc/server/adapters/ws';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { SessionEvents } from '../session/sessionService.js';
import type { PollEventLog } from './eventLog.js';
import type { PollSender } from './pollSender.js';
import type { SessionFeed } from './sessionFeed.js';

/** What tRPC needs of a session (SessionService has it; tests use a small double). */
export interface TrpcSession {
  readonly sessionState: SessionState;
  listPolls(): Poll[];
  getPoll(id: string): Poll | undefined;
  sendPoll(input: SendPollInput): Promise<Poll>;
  listChats(): Promise<Chat[]>;
  logout(): Promise<void>;
  requestPairingCode(phoneNumber: string): Promise<string>;
  on<K extends keyof SessionEvents>(
    event: K,
    listener: (...args: SessionEvents[K]) => void,
  ): unknown;
  off<K extends keyof SessionEvents>(
    event: K,
    listener: (...args: SessionEvents[K]) => void,
  ): unknown;
}

/** What every procedure can use; built once by `mountTrpc`. */
export interface TrpcServices {
  session: TrpcSession;
  config: Pick<Config, 'apiKey' | 'sendDelayMs'>;
  logger: Logger;
  /** Poll events with resumable ids, for `polls.updates`. */
  log: PollEventLog;
  /** Session states with resumable ids, for `session.events`. */
  sessionFeed: SessionFeed;
  /** Paced multi-chat sends and their progress. */
  sender: PollSender;
}

export interface Context extends TrpcServices {
  /** Whether the caller may use the API (loopback, no key configured, or the right key). */
  authorized: boolean;
  /** Bytes queued on the caller's WebSocket; null over HTTP. */
  bufferedAmount: (() => number) | null;
}

const isLoopbackAddress = (address: string | undefined): boolean =>
  address === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(address ?? '');

const sameKey = (given: string, expected: string): boolean => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/** Loopback callers stay keyless (see DESIGN.md "Configuration and security"). */
const isAuthorized = (
  services: TrpcServices,
  req: IncomingMessage,
  key: string | undefined,
): boolean => {
  const expected = services.config.apiKey;
  if (!expected || isLoopbackAddress(req.socket.remoteAddress)) return true;
  return key !== undefined && sameKey(key, expected);
};

const bearer = (req: IncomingMessage): string | undefined =>
  /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];

export const createHttpContext =
  (services: TrpcServices) =>
  ({ req }: CreateExpressContextOptions): Context => ({
    ...services,
    authorized: isAuthorized(services, req, bearer(req)),
    bufferedAmount: null,
  });

export const createWsContext =
  (services: TrpcServices) =>
  ({ req, res, info }: CreateWSSContextFnOptions): Context => {
    const param = info.connectionParams?.apiKey;
    return {
      ...services,
      authorized: isAuthorized(services, req, param ?? bearer(req)),
      bufferedAmount: () => res.bufferedAmount,
    };
  };
