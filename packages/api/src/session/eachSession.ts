import type { SessionManager } from './sessionManager.js';
import type { SessionService } from './sessionService.js';

/** What a follower of every session needs of the manager. */
export type SessionSource = Pick<SessionManager, 'list' | 'on' | 'off'>;

/**
 * Calls `follow` for every session, those there now and those created later; the function it
 * returns is called when the session is deleted, or when the returned function ends it all.
 */
export const eachSession = (
  sessions: SessionSource,
  follow: (session: SessionService) => () => void,
): (() => void) => {
  const unfollow = new Map<string, () => void>();
  const onCreated = (session: SessionService) => {
    unfollow.get(session.sessionId)?.();
    unfollow.set(session.sessionId, follow(session));
  };
  const onDeleted = (id: string) => {
    unfollow.get(id)?.();
    unfollow.delete(id);
  };
  for (const { service } of sessions.list()) onCreated(service);
  sessions.on('created', onCreated);
  sessions.on('deleted', onDeleted);
  return () => {
    sessions.off('created', onCreated);
    sessions.off('deleted', onDeleted);
    for (const end of unfollow.values()) end();
    unfollow.clear();
  };
};
