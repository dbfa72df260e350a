import type { EventEmitter } from 'node:events';
import type { Server as SocketIOServer } from 'socket.io';

/**
 * Resolves once every Socket.IO connection open when it is called has sent what it held (its
 * disconnect, after `disconnectSockets`) or closed. A client over long-polling fetches its
 * disconnect with its next poll; only then may the stop close its connection.
 */
export type SocketIoFlushed = () => Promise<void>;

/** Keeps the Socket.IO (engine) connections of `io` from now on, for a stop to wait for. */
export const trackSocketIoConnections = (io: SocketIOServer): SocketIoFlushed => {
  const open = new Set<EventEmitter>();
  io.engine.on('connection', (connection: EventEmitter) => {
    open.add(connection);
    connection.once('close', () => open.delete(connection));
  });
  // An engine connection emits `drain` once its write buffer went out on the transport.
  const flushed = (connection: EventEmitter) =>
    new Promise((resolve) => {
      connection.once('drain', resolve);
      connection.once('close', resolve);
    });
  return () => Promise.all([...open].map(flushed)).then(() => {});
};
