import type { IncomingMessage } from 'node:http';
import { DEFAULT_SESSION, errors, PollMastersError, type Principal } from '@pollmasters/shared';

/** The caller of a server without a key, or with the server's key: every session. */
export const admin: Principal = { kind: 'admin' };

/** Whether `principal` may see and drive the session `sessionId`. */
export const maySee = (principal: Principal, sessionId: string): boolean =>
  principal.kind === 'admin' || principal.sessionId === sessionId;

/** @throws FORBIDDEN unless `principal` may use the session `sessionId`. */
export const assertMaySee = (principal: Principal, sessionId: string): void => {
  if (!maySee(principal, sessionId)) {
    throw errors.forbidden(`this API key is for another session than ${sessionId}`);
  }
};

/** @throws FORBIDDEN unless the caller holds the server's key (e.g. to create a session). */
export const assertAdmin = (principal: Principal, what: string): void => {
  if (principal.kind !== 'admin') {
    throw errors.forbidden(`${what} needs the server's API key, not a session's`);
  }
};

/** The compat API (HTTP and Socket.IO) serves the session `default` alone. */
export const mayUseCompat = (principal: Principal): boolean => maySee(principal, DEFAULT_SESSION);

const principals = new WeakMap<IncomingMessage, Principal>();

/** Remembers who sent a request, once its key was checked, for what handles it later. */
export const rememberPrincipal = (req: IncomingMessage, principal: Principal): void => {
  principals.set(req, principal);
};

/** Who sent a request whose key was checked. @throws INTERNAL for one never checked (a bug). */
export const principalOfRequest = (req: IncomingMessage): Principal => {
  const principal = principals.get(req);
  if (!principal) throw PollMastersError.from(new Error('a route ran before its key check'));
  return principal;
};
