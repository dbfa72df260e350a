import type { Poll, SessionState } from '@pollmasters/shared';
import type { PollUpdate } from '../session/readModel.js';
import type { EventPosition } from '../session/sessionReport.js';
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
  // A cluster node: ids become the session stream's (../cluster), the same on every node.
  const onPositioned = (at: EventPosition) => {
    log.restartAt(at);
    sessionFeed.restartAt(at);
  };
  const position = session.position;
  if (position) onPositioned(position);
  const sender = new PollSender({ session, delayMs: sendDelayMs });
  const onPollSent = (poll: Poll, at?: EventPosition) => {
    log.pollSent(poll, at);
  };
  const onPollsUpdated = (updates: readonly PollUpdate[], at?: EventPosition) => {
    log.pollsUpdated(updates, at);
  };
  const onResynced = (polls: readonly Poll[], at: EventPosition) => {
    log.resynced(polls, at);
  };
  const onState = (state: SessionState, at?: EventPosition) => sessionFeed.update(state, at);
  session.on('positioned', onPositioned);
  session.on('pollSent', onPollSent);
  session.on('pollsUpdated', onPollsUpdated);
  session.on('resynced', onResynced);
  session.on('state', onState);
  return {
    session,
    log,
    sessionFeed,
    sender,
    close: () => {
      sender.close();
      session.off('positioned', onPositioned);
      session.off('pollSent', onPollSent);
      session.off('pollsUpdated', onPollsUpdated);
      session.off('resynced', onResynced);
      session.off('state', onState);
    },
  };
};
