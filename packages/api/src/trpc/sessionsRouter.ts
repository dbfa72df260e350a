import {
  CreateSessionInput,
  DeleteSessionInput,
  errors,
  SessionIdInput,
  type SessionInfo,
  SessionLoginInput,
  SessionsEventsInput,
} from '@pollmasters/shared';
import { tracked } from '@trpc/server';
import { maySee } from '../access.js';
import { eachSession } from '../session/eachSession.js';
import { describeSession } from '../session/sessionControl.js';
import type { Context, TrpcSessions } from './context.js';
import { toTRPCError } from './errors.js';
import { EventQueue } from './eventQueue.js';
import { holdSlot } from './holdSlot.js';
import { procedure, router } from './init.js';

const sessionsOf = (ctx: Context): TrpcSessions => {
  if (!ctx.sessions) throw errors.notFound('sessions on this server');
  return ctx.sessions;
};

/** A change of the server's sessions: one created, changed (state) or deleted. */
type SessionsEvent = { type: 'session'; session: SessionInfo } | { type: 'deleted'; id: string };

/**
 * The sessions (accounts) of the server: create, start, log in, stop, log out, delete; and
 * their changes as a subscription.
 */
export const sessionsRouter = router({
  /** Every session; with a session's key, that one. */
  list: procedure.query(({ ctx }) => sessionsOf(ctx).control.list(ctx.principal)),
  get: procedure
    .input(SessionIdInput)
    .query(({ ctx, input }) => sessionsOf(ctx).control.get(ctx.principal, input.id)),
  /** With `scopedKey: true`, also its own API key (`apiKey`), shown in this answer only. */
  create: procedure
    .input(CreateSessionInput)
    .mutation(({ ctx, input }) => sessionsOf(ctx).control.create(ctx.principal, input)),
  /** A new own API key for the session, shown in this answer only; the old one stops working. */
  rotateKey: procedure
    .input(SessionIdInput)
    .mutation(({ ctx, input }) => sessionsOf(ctx).control.rotateKey(ctx.principal, input.id)),
  start: procedure
    .input(SessionIdInput)
    .mutation(({ ctx, input }) => sessionsOf(ctx).control.start(ctx.principal, input.id)),
  stop: procedure
    .input(SessionIdInput)
    .mutation(({ ctx, input }) => sessionsOf(ctx).control.stop(ctx.principal, input.id)),
  logout: procedure
    .input(SessionIdInput)
    .mutation(({ ctx, input }) => sessionsOf(ctx).control.logout(ctx.principal, input.id)),
  /** With `phoneNumber`, a pairing code; else the QR to scan (follow `events` for new ones). */
  login: procedure
    .input(SessionLoginInput)
    .mutation(({ ctx, input }) => sessionsOf(ctx).control.login(ctx.principal, input)),
  delete: procedure
    .input(DeleteSessionInput)
    .mutation(({ ctx, input }) => sessionsOf(ctx).control.delete(ctx.principal, input)),
  /**
   * Every session as it is now, then each change (created, state, deleted), with tracked ids.
   * A client that reconnects gets the whole list again: it is small, and always current.
   */
  events: procedure.input(SessionsEventsInput).subscription(async function* ({ ctx, signal }) {
    const { manager } = sessionsOf(ctx);
    const release = holdSlot(ctx);
    // Bounded: a subscriber that falls this far behind is ended (it resubscribes for the list).
    const queue = new EventQueue<SessionsEvent>(10_000, signal);
    const changed = (id: string) => {
      if (!maySee(ctx.principal, id)) return;
      const managed = manager.get(id);
      if (managed) queue.push({ type: 'session', session: describeSession(managed) });
    };
    // Each session's state changes while it exists; its deletion ends them (not the end of
    // this subscription, which stops every follower without announcing anything).
    let ending = false;
    const stopFollowing = eachSession(manager, (service) => {
      const id = service.sessionId;
      const onState = () => changed(id);
      service.on('state', onState);
      changed(id);
      return () => {
        service.off('state', onState);
        if (!ending && maySee(ctx.principal, id)) queue.push({ type: 'deleted', id });
      };
    });
    const epoch = Date.now().toString(36);
    let seq = 0;
    try {
      for await (const event of queue) {
        seq += 1;
        yield tracked(`${epoch}-${seq}`, event);
      }
    } catch (err) {
      throw toTRPCError(err);
    } finally {
      ending = true;
      stopFollowing();
      release();
    }
  }),
});
