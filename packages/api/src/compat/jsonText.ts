import { Decoder, Encoder, type Packet, PacketType, protocol } from 'socket.io-parser';

/**
 * A Socket.IO event payload that is already JSON text: the compat encoder below writes it into
 * the packet as it is, instead of walking the value for binary parts and stringifying it. A
 * full poll state is built as text once per push (`pollUpdateJson`), and a broadcast encodes
 * its packet once for every client, so each push is serialised exactly once. The text may be
 * given in parts (one per poll, for `initial_poll_data`): the encoder writes them into the
 * packet's string without first joining them into a whole text of their own.
 */
export class JsonText {
  readonly parts: readonly string[];
  /** Its length in UTF-16 code units, as `text.length`. */
  readonly length: number;

  constructor(text: string | readonly string[]) {
    this.parts = typeof text === 'string' ? [text] : text;
    let length = 0;
    for (const part of this.parts) length += part.length;
    this.length = length;
  }

  /** Any other encoder (another adapter's, say) gets the value itself. */
  toJSON(): unknown {
    return JSON.parse(this.parts.join(''));
  }
}

/**
 * What socket.io-parser writes before an event's one argument: `2`, the namespace unless it is
 * the main one, the ack id if any, then `[<event name>,`. The argument and `]` follow.
 */
export const eventHead = (nsp: string, id: number | undefined, event: unknown): string => {
  let head = String(PacketType.EVENT);
  if (nsp && nsp !== '/') head += `${nsp},`;
  if (id != null) head += id;
  return `${head}[${JSON.stringify(event)},`;
};

/**
 * socket.io-parser's encoder, except that an event whose one argument is a `JsonText` is
 * written as `2[<event name>,<text>]` (with the namespace and ack id as the parser writes
 * them): the same bytes as the parser's own `JSON.stringify` of the parsed value.
 */
class CompatEncoder extends Encoder {
  override encode(packet: Packet): ReturnType<Encoder['encode']> {
    const data: unknown = packet.data;
    if (
      packet.type === PacketType.EVENT &&
      Array.isArray(data) &&
      data.length === 2 &&
      data[1] instanceof JsonText
    ) {
      // Concatenated, not joined: V8 keeps the result as a rope over the parts, and the one
      // flat copy of the packet is made where it is written (engine.io prefixes it, ws takes
      // its byte length). A join here would be a second whole copy, held while that is made.
      let text = eventHead(packet.nsp, packet.id, data[0]);
      for (const part of data[1].parts) text += part;
      return [`${text}]`];
    }
    return super.encode(packet);
  }
}

/** The `parser` option of the compat Socket.IO server: the default one, with `JsonText`. */
export const compatParser = { protocol, Encoder: CompatEncoder, Decoder };
