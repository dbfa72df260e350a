import { Decoder, Encoder, type Packet, PacketType, protocol } from 'socket.io-parser';

/**
 * A Socket.IO event payload that is already JSON text: the compat encoder below writes it into
 * the packet as it is, instead of walking the value for binary parts and stringifying it. A
 * full poll state is built as text once per push (`pollUpdateJson`), and a broadcast encodes
 * its packet once for every client, so each push is serialised exactly once.
 */
export class JsonText {
  constructor(readonly text: string) {}

  /** Any other encoder (another adapter's, say) gets the value itself. */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

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
      let head = String(PacketType.EVENT);
      if (packet.nsp && packet.nsp !== '/') head += `${packet.nsp},`;
      if (packet.id != null) head += packet.id;
      return [`${head}[${JSON.stringify(data[0])},${data[1].text}]`];
    }
    return super.encode(packet);
  }
}

/** The `parser` option of the compat Socket.IO server: the default one, with `JsonText`. */
export const compatParser = { protocol, Encoder: CompatEncoder, Decoder };
