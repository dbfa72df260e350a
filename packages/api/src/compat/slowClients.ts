import type { Server, Socket } from 'socket.io';

/** A packet waiting in an engine.io socket's write buffer. */
interface BufferedPacket {
  data?: unknown;
}

const sizeOf = (packet: BufferedPacket): number => {
  const { data } = packet;
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
};

/** engine.io's queue of packets its transport has not taken yet (private in its types). */
export const writeBufferOf = (socket: Socket): readonly BufferedPacket[] =>
  (socket.conn as unknown as { writeBuffer: BufferedPacket[] }).writeBuffer;

/** Bytes queued for a Socket.IO client that its connection has not taken yet. */
export const bufferedBytes = (writeBuffer: readonly BufferedPacket[]): number => {
  let total = 0;
  for (const packet of writeBuffer) total += sizeOf(packet);
  return total;
};

/**
 * Disconnects every client whose unsent packets exceed `maxBytes`: a client that stops
 * reading must not make the server hold an ever longer queue of full poll states for it.
 * The client may reconnect; it gets `initial_poll_data` (the whole current state) again.
 * Returns how many were dropped.
 */
export const dropSlowClients = (
  io: Server,
  maxBytes: number,
  onDrop: (id: string, bytes: number) => void = () => {},
  /** The queued bytes that count: less what a client may hold (its initial data). */
  counted: (socket: Socket, queued: number) => number = (_socket, queued) => queued,
): number => {
  let dropped = 0;
  for (const socket of io.of('/').sockets.values()) {
    const buffer = writeBufferOf(socket);
    if (
      buffer.length > 0 &&
      dropIfSlow(socket, counted(socket, bufferedBytes(buffer)), maxBytes, onDrop)
    ) {
      dropped += 1;
    }
  }
  return dropped;
};

/** Disconnects one client whose `queued` unsent bytes exceed `maxBytes`; true if it did. */
export const dropIfSlow = (
  socket: Socket,
  queued: number,
  maxBytes: number,
  onDrop: (id: string, bytes: number) => void,
): boolean => {
  if (queued <= maxBytes) return false;
  onDrop(socket.id, queued);
  // `true` closes the underlying connection, which frees its write buffer.
  socket.disconnect(true);
  return true;
};
