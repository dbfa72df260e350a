import type { Poll, SessionState } from '@pollmasters/shared';
import type { PollUpdate } from '../session/readModel.js';
import type { SessionTrpcState, TrpcSession } from './context.js';
import { PollEventLog } from './eventLog.js';
import { PollSender } from './pollSender.js';
import { SessionFeed } from './sessionFeed.js';

/**
 * What tRPC keeps of one session: its poll events with resumable ids (`polls.updates`), its
 * states (`session.events`) and its paced sends (`polls.send`). Logging starts at once, so
 * that a session's first snapshot is in its log.
 */
export interface SessionStreams extends SessionTrpcState {
  /** Stops listening to the session and ends its sends. */
  close(): void;
}

export const openSessionStreams = (session: TrpcSession, sendDelayMs: number): SessionStreams => {
  const log = new PollEventLog();
  const sessionFeed = new SessionFeed(log.epoch, session.sessionState);
  const sender = new PollSender({ session, delayMs: sendDelayMs });
  const onPollSent = (poll: Poll) => {
    log.pollSent(poll);
  };
  const onPollsUpdated = (updates: readonly PollUpdate[]) => {
    log.pollsUpdated(updates);
  };
  const onState = (state: SessionState) => sessionFeed.update(state);
  session.on('pollSent', onPollSent);
  session.on('pollsUpdated', onPollsUpdated);
  session.on('state', onState);
  return {
    session,
    log,
    sessionFeed,
    sender,
    close: () => {
      sender.close();
      session.off('pollSent', onPollSent);
      session.off('pollsUpdated', onPollsUpdated);
      session.off('state', onState);
    },
  };
};
