import type { CreateExpressContextOptions } from '@trpc/server/adapters/express';
import type { CreateWSSContextFnOptions } from '@trpc/server/adapters/ws';
import type { Logger } from 'pino';
import { type ApiKeyAuth, keyOfHeaders, unauthorized } from '../auth.js';
import type { Config } from '../config.js';
import type { SessionView } from '../session/sessionService.js';
import { toTRPCError } from './errors.js';
import type { PollEventLog } from './eventLog.js';
import type { PollSender } from './pollSender.js';
import type { SessionFeed } from './sessionFeed.js';
import { SubscriptionSlots } from './subscriptionSlots.js';

/** What tRPC needs of a session (SessionService has it; tests use a small double). */
export type TrpcSession = SessionView<
  | 'sessionState'
  | 'listPolls'
  | 'getPoll'
  | 'sendPoll'
  | 'votePoll'
  | 'listChats'
  | 'logout'
  | 'requestPairingCode'
>;

/** What every procedure can use; built once by `mountTrpc`. */
export interface TrpcServices {
  session: TrpcSession;
  config: Pick<Config, 'apiKey' | 'sendDelayMs'> &
    Partial<Pick<Config, 'subscriberMaxBufferedBytes'>>;
  logger: Logger;
  /** Poll events with resumable ids, for `polls.updates`. */
  log: PollEventLog;
  /** Session states with resumable ids, for `session.events`. */
  sessionFeed: SessionFeed;
  /** Paced multi-chat sends and their progress. */
  sender: PollSender;
}

/**
 * What a procedure gets: made only for a caller that may use the API (the factories below
 * refuse anyone else with UNAUTHORIZED before any procedure runs).
 */
export interface Context extends TrpcServices {
  /** Bytes queued on the caller's WebSocket; null over HTTP. */
  bufferedAmount: (() => number) | null;
  /**
   * Where a subscription takes its slot: the caller's WebSocket's own share, or over HTTP
   * (server-sent events, one request each) one pool for all such streams.
   */
  subscriptionSlots: SubscriptionSlots;
}

/** Subscriptions one WebSocket connection may hold at once. */
export const maxSubscriptionsPerConnection = 20;

/** Subscriptions over HTTP (server-sent events) the server holds at once, from all callers. */
export const maxHttpSubscriptions = 100;

/**
 * The HTTP context: a missing or wrong key (../auth.ts) fails the whole request with
 * UNAUTHORIZED (401) before any procedure is looked up.
 */
export const createHttpContext = (services: TrpcServices, auth: ApiKeyAuth) => {
  const httpSubscriptions = new SubscriptionSlots(maxHttpSubscriptions, 'over HTTP at once');
  return ({ req }: CreateExpressContextOptions): Context => {
    if (!auth.accepts(keyOfHeaders(req.headers))) throw toTRPCError(unauthorized());
    return {
      ...services,
      bufferedAmount: null,
      subscriptionSlots: httpSubscriptions,
    };
  };
};

/**
 * The context of one WebSocket connection, made once per connection: the key comes in
 * `connectionParams.apiKey` (or the upgrade's headers). Without it tRPC answers
 * UNAUTHORIZED and closes the connection.
 */
export const createWsContext = (services: TrpcServices, auth: ApiKeyAuth) => {
  return ({ req, res, info }: CreateWSSContextFnOptions): Context => {
    const param = info.connectionParams?.apiKey;
    if (!auth.accepts(param ?? keyOfHeaders(req.headers))) throw toTRPCError(unauthorized());
    return {
      ...services,
      bufferedAmount: () => res.bufferedAmount,
      subscriptionSlots: new SubscriptionSlots(maxSubscriptionsPerConnection),
    };
  };
};
