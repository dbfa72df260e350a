import type { Server, Socket } from 'socket.io';

/** A packet waiting in an engine.io socket's write buffer. */
interface BufferedPacket {
  data?: unknown;
  /** A broadcast's WebSocket frame, made once for every client (socket.io-adapter). */
  options?: { wsPreEncodedFrame?: readonly Uint8Array[] } | undefined;
}

/**
 * What each packet weighs, measured once: a packet waits in the buffer while many pushes look
 * at it, and `Buffer.byteLength` reads a 100 KB state through each time (3 % of the API
 * thread under a flood of votes, docs/performance.md, "Session 8").
 */
const sizes = new WeakMap<BufferedPacket, number>();

const sizeOf = (packet: BufferedPacket): number => {
  let size = sizes.get(packet);
  if (size !== undefined) return size;
  const { data } = packet;
  const frame = packet.options?.wsPreEncodedFrame;
  if (typeof data === 'string') {
    // A pre-encoded frame's payload is engine.io's one-byte packet type, then the data's UTF-8.
    const payload = frame?.[frame.length - 1];
    size = payload ? payload.byteLength - 1 : Buffer.byteLength(data);
  } else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) size = data.byteLength;
  else size = 0;
  sizes.set(packet, size);
  return size;
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
