import type { Server, ServerResponse } from 'node:http';

export interface HttpDrain {
  /**
   * For a server that stopped accepting: ends the event streams, lets every other request in
   * flight be answered (`graceMs` at most) on a connection that closes after it, then closes
   * every connection left. Resolves once none is open.
   */
  drain(graceMs: number): Promise<void>;
}

/** A server-sent event stream (tRPC's subscriptions over HTTP): it never ends by itself. */
const isEventStream = (res: ServerResponse): boolean =>
  String(res.getHeader('content-type') ?? '').startsWith('text/event-stream');

/**
 * Keeps the responses of `server` that are still open, so that a stop can end them: the HTTP
 * server's own close waits for every connection, and with an event stream open that wait
 * never ends (nor does Socket.IO's close, which waits for it).
 */
export const trackRequests = (server: Server): HttpDrain => {
  const open = new Set<ServerResponse>();
  let draining = false;
  let onClosed = () => {};

  const closeAfterAnswer = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  };
  // First, before the app answers anything.
  server.prependListener('request', (_req, res: ServerResponse) => {
    if (draining) closeAfterAnswer(res);
    open.add(res);
    res.once('close', () => {
      open.delete(res);
      onClosed();
    });
  });

  const drain = async (graceMs: number): Promise<void> => {
    draining = true;
    for (const res of open) {
      if (isEventStream(res)) res.destroy();
      else closeAfterAnswer(res);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      onClosed = () => {
        if (open.size > 0) return;
        clearTimeout(timer);
        resolve();
      };
      onClosed();
    });
    // Answered on a kept-alive connection (its headers went out before the stop), or still
    // unanswered after the grace: either way, the connection goes now.
    server.closeAllConnections();
  };
  return { drain };
};
