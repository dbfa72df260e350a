import type { Socket } from 'socket.io';
import { eventHead, type JsonText } from './jsonText.js';

/** What engine.io's WebSocket transport needs to write a frame made beforehand (untyped). */
interface EngineTransport {
  name: string;
  perMessageDeflate?: unknown;
  socket?: { _sender?: { sendFrame?: unknown } };
}

/** Engine.IO's `message` packet type, written before the Socket.IO packet in a frame. */
const MESSAGE = '4';

/** An unmasked, final WebSocket text frame's header (RFC 6455, 5.2) for `length` bytes. */
const textFrameHeader = (length: number): Buffer => {
  if (length < 126) return Buffer.from([0x81, length]);
  if (length < 0x10000) return Buffer.from([0x81, 126, length >>> 8, length & 0xff]);
  const header = Buffer.alloc(10);
  header[0] = 0x81;
  header[1] = 127;
  header.writeUIntBE(length, 4, 6);
  return header;
};

/**
 * Whether the client's connection is a WebSocket whose frames engine.io writes as they were
 * made (`wsPreEncodedFrame`, as Socket.IO's broadcasts do): no compression, ws' sender there.
 */
const takesFrames = (socket: Socket): boolean => {
  const transport = socket.conn.transport as unknown as EngineTransport;
  return (
    transport.name === 'websocket' &&
    !transport.perMessageDeflate &&
    typeof transport.socket?._sender?.sendFrame === 'function'
  );
};

/**
 * Emits an event whose one argument is JSON text to one client; returns the bytes sent. Over a
 * WebSocket the frame's payload is written part by part into one Buffer (UTF-8, its exact size
 * counted first), and engine.io sends that Buffer as the text frame: the packet exists once as
 * a whole, as bytes, where the encoder's text would be flattened into one string by ws and
 * copied again into the socket's write (three copies of a ~100 MB `initial_poll_data` at a
 * million voters). The client gets the same bytes. Over HTTP long-polling (a client that has
 * not upgraded, as the Python GUI starts) the text goes through the compat encoder.
 */
export const emitJsonText = (socket: Socket, event: string, data: JsonText): number => {
  if (!takesFrames(socket)) {
    socket.emit(event, data);
    return data.length;
  }
  if (socket.conn.readyState !== 'open') return 0;
  const head = MESSAGE + eventHead(socket.nsp.name, undefined, event);
  let length = Buffer.byteLength(head) + 1;
  for (const part of data.parts) length += Buffer.byteLength(part);
  const payload = Buffer.allocUnsafeSlow(length);
  let at = payload.write(head);
  for (const part of data.parts) at += payload.write(part, at);
  at += payload.write(']', at);
  if (at !== length) throw new Error(`${event}: wrote ${at} of ${length} bytes`);
  // The packet's data is the payload itself: what the slow-client bound counts while it waits.
  socket.conn.write(payload, { wsPreEncodedFrame: [textFrameHeader(length), payload] } as object);
  return length;
};
