import { pino } from 'pino';
import { type Context, maxSubscriptionsPerConnection } from '../src/trpc/context.js';
import { PollEventLog } from '../src/trpc/eventLog.js';
import { PollSender } from '../src/trpc/pollSender.js';
import { SessionFeed } from '../src/trpc/sessionFeed.js';
import { SubscriptionSlots } from '../src/trpc/subscriptionSlots.js';
import type { FakeSession } from './fakeSession.js';

/** The tRPC context of an admin over one session and its event log, as the server makes it. */
export const routerContext = (
  session: FakeSession,
  options: { log?: PollEventLog; delayMs?: number } = {},
): Context => {
  const log = options.log ?? new PollEventLog();
  const delayMs = options.delayMs ?? 0;
  return {
    principal: { kind: 'admin' },
    session,
    config: { sendDelayMs: delayMs },
    logger: pino({ level: 'silent' }),
    log,
    sessionFeed: new SessionFeed(log.epoch, session.sessionState),
    sender: new PollSender({ session, delayMs }),
    bufferedAmount: null,
    subscriptionSlots: new SubscriptionSlots(maxSubscriptionsPerConnection),
  };
};
