import type { Principal } from '@pollmasters/shared';
import type { CreateExpressContextOptions } from '@trpc/server/adapters/express';
import type { CreateWSSContextFnOptions } from '@trpc/server/adapters/ws';
import type { Logger } from 'pino';
import { principalOfRequest } from '../access.js';
import type { Config } from '../config.js';
import type { SessionControl } from '../session/sessionControl.js';
import type { SessionManager } from '../session/sessionManager.js';
import type { SessionService, SessionView } from '../session/sessionService.js';
import type { PollEventLog } from './eventLog.js';
import type { PollSender } from './pollSender.js';
import type { SessionFeed } from './sessionFeed.js';
import { SubscriptionSlots } from './subscriptionSlots.js';

/** What tRPC needs of a session (SessionService has it; tests use a small double). */
export type TrpcSession = SessionView<
  | 'sessionState'
  | 'listPolls'
  | 'pollPage'
  | 'getPoll'
  | 'sendPoll'
  | 'votePoll'
  | 'listChats'
  | 'logout'
  | 'requestPairingCode'
  | 'webhook'
> &
  // A cluster node's session tells where its read model is in the session's stream.
  Partial<Pick<SessionService, 'position'>>;

/** The server's sessions, for `sessions.*` and for procedures that name a session. */
export interface TrpcSessions {
  control: SessionControl;
  manager: SessionManager;
  /** A session's event log, state feed and sender. @throws NOT_FOUND, BAD_INPUT (its id) */
  streamsOf(id: string): SessionTrpcState;
}

/** What tRPC keeps of one session (./sessionStreams.ts). */
export interface SessionTrpcState {
  session: TrpcSession;
  /** Poll events with resumable ids, for `polls.updates`. */
  log: PollEventLog;
  /** Session states with resumable ids, for `session.events`. */
  sessionFeed: SessionFeed;
  /** Paced multi-chat sends and their progress. */
  sender: PollSender;
}

/** What every procedure can use; built once by `mountTrpc`. */
export interface TrpcServices {
  /** The session `default`. */
  session: TrpcSession;
  /** Absent on a server that has the session `default` only. */
  sessions?: TrpcSessions;
  config: Pick<Config, 'sendDelayMs'> & Partial<Pick<Config, 'subscriberMaxBufferedBytes'>>;
  logger: Logger;
  /** Poll events with resumable ids, for `polls.updates`. */
  log: PollEventLog;
  /** Session states with resumable ids, for `session.events`. */
  sessionFeed: SessionFeed;
  /** Paced multi-chat sends and their progress. */
  sender: PollSender;
}

/**
 * What a procedure gets: made only for a caller that may use the API (./httpGuard.ts and
 * ./wsGate.ts refuse anyone else with UNAUTHORIZED before tRPC sees the call).
 */
export interface Context extends TrpcServices {
  /** Who the caller is by its key: the sessions it may see and drive (../access.ts). */
  principal: Principal;
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

/** The HTTP context, one per request; all requests' server-sent events share one pool. */
export const createHttpContext = (services: TrpcServices) => {
  const httpSubscriptions = new SubscriptionSlots(maxHttpSubscriptions, 'over HTTP at once');
  return ({ req }: CreateExpressContextOptions): Context => {
    return {
      ...services,
      principal: principalOfRequest(req),
      bufferedAmount: null,
      subscriptionSlots: httpSubscriptions,
    };
  };
};

/** The context of one WebSocket connection, made once per connection. */
export const createWsContext = (
  services: TrpcServices,
  principalOf: (ws: CreateWSSContextFnOptions['res']) => Principal,
) => {
  return ({ res }: CreateWSSContextFnOptions): Context => {
    return {
      ...services,
      principal: principalOf(res),
      bufferedAmount: () => res.bufferedAmount,
      subscriptionSlots: new SubscriptionSlots(maxSubscriptionsPerConnection),
    };
  };
};
