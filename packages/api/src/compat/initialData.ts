import type { Socket } from 'socket.io';
import { eventHead, JsonText } from './jsonText.js';

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
 * Emits an event whose one argument is JSON text, given in parts, to one client; returns the
 * bytes sent. `parts` makes the parts anew each time it is called, the same each time within a
 * turn. Over a WebSocket they are made twice: once to count the bytes, then again to write them
 * into one Buffer of exactly that size, which engine.io sends as the text frame. So the packet
 * exists once, as bytes, with one poll's text beside it; it is never one flat string (ws would
 * make one of the encoder's text) nor copied again into the socket's write, and the client gets
 * the same bytes. Over HTTP long-polling (a client that has not upgraded, as the Python GUI
 * starts) the parts go through the compat encoder (./jsonText.ts), each made flat as it comes
 * (a part built by appending is a rope of some 2,000 pieces per 1,000-voter poll).
 */
export const emitJsonText = (
  socket: Socket,
  event: string,
  parts: () => Iterable<string>,
): number => {
  if (!takesFrames(socket)) {
    const flat: string[] = [];
    let bytes = 0;
    for (const part of parts()) {
      bytes += Buffer.byteLength(part); // which flattens a rope where it stands
      flat.push(part);
    }
    socket.emit(event, new JsonText(flat));
    return bytes;
  }
  if (socket.conn.readyState !== 'open') return 0;
  const head = MESSAGE + eventHead(socket.nsp.name, undefined, event);
  let length = Buffer.byteLength(head) + 1;
  for (const part of parts()) length += Buffer.byteLength(part);
  const payload = Buffer.allocUnsafeSlow(length);
  let at = payload.write(head);
  for (const part of parts()) at += payload.write(part, at);
  at += payload.write(']', at);
  if (at !== length) throw new Error(`${event}: wrote ${at} of ${length} bytes`);
  // The packet's data is the payload itself: what the slow-client bound counts while it waits.
  socket.conn.write(payload, { wsPreEncodedFrame: [textFrameHeader(length), payload] } as object);
  return length;
};
