import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface HttpDrain {
  /**
   * For a server that stopped accepting: ends the event streams, and lets every other request
   * in flight be answered (`graceMs` at most) on a connection that closes after it. Resolves
   * once none is in flight, or the grace is over.
   */
  drain(graceMs: number): Promise<void>;
  /**
   * Destroys every connection the server accepted that is still open: kept-alive ones,
   * requests still unanswered, and upgraded ones (a WebSocket whose client ignores the close
   * frame, a refused upgrade whose client never closes its side), which Node's
   * `closeAllConnections` does not reach. The server's close waits for every one.
   */
  destroyRemaining(): void;
}

/** A server-sent event stream (tRPC's subscriptions over HTTP): it never ends by itself. */
const isEventStream = (res: ServerResponse): boolean =>
  String(res.getHeader('content-type') ?? '').startsWith('text/event-stream');

/**
 * Keeps the responses of `server` that are still open, so that a stop can end them: the HTTP
 * server's own close waits for every connection, and with an event stream open that wait
 * never ends (nor does Socket.IO's close, which waits for it). Keeps its sockets too, for the
 * ones that no HTTP response holds.
 */
export const trackRequests = (server: Server): HttpDrain => {
  const open = new Set<ServerResponse>();
  // An upgraded connection keeps the socket of its `connection` event: this set has it too.
  const sockets = new Set<Socket>();
  let draining = false;
  let onClosed = () => {};

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
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
  };
  const destroyRemaining = () => {
    for (const socket of sockets) socket.destroy();
  };
  return { drain, destroyRemaining };
};
