import type { Socket } from 'socket.io';

/** An engine.io packet, as its `packet` and `packetCreate` events give it. */
interface EnginePacket {
  type: string;
}

/** engine.io's own way to send a packet of a given type (private in its types). */
const sendPing = (socket: Socket): void =>
  (socket.conn as unknown as { sendPacket(type: 'ping'): void }).sendPacket('ping');

interface Client {
  /** Bytes sent to the client so far (what `sent` was told). */
  sent: number;
  /** Bytes the client has certainly read: everything sent before the last ping it answered. */
  read: number;
  /** Per ping not answered yet, `sent` when it was written (pongs come in ping order). */
  pings: number[];
  /** Where the connection's initial data ends, until the client has read it. */
  initialEnd: number;
}

/**
 * How far a Socket.IO client is behind in reading what it was sent, from engine.io's
 * heartbeat: a client answers a ping with a pong only after it has read everything sent
 * before the ping. The write buffers do not tell: the kernel takes what is written until its
 * socket buffers are full (on Linux up to `tcp_wmem` + `tcp_rmem`, 36 MB on a stock Debian),
 * so a client that reads slower than it is sent to falls tens of megabytes behind before any
 * write waits, and the heartbeat's ping, behind all that, is answered too late: the client
 * is disconnected ("ping timeout") although it reads. Here, after data goes out, a ping is
 * sent (unless one is on its way already) and its pong tells what has been read; the pushes
 * (./guiPushes.ts) hold back from a client with more than a bound unread, so neither their
 * states nor the heartbeat ever wait behind more than that.
 */
export class ReadAcks {
  private readonly clients = new Map<string, Client>();

  /** `onRead`: a client read more (called after its pong). */
  constructor(private readonly onRead: (id: string) => void) {}

  /**
   * Starts following a client; call it on connection, before anything is sent (the pings
   * engine.io sends on its own are then counted too, and every pong is matched to its ping).
   */
  track(socket: Socket): void {
    // Protocol 3 (not accepted unless `allowEIO3`): there the client pings, not the server.
    if (this.clients.has(socket.id) || socket.conn.protocol === 3) return;
    const client: Client = { sent: 0, read: 0, pings: [], initialEnd: 0 };
    this.clients.set(socket.id, client);
    const onCreate = (packet: EnginePacket) => {
      if (packet.type === 'ping') client.pings.push(client.sent);
    };
    const onPacket = (packet: EnginePacket) => {
      if (packet.type !== 'pong') return;
      const upTo = client.pings.shift();
      if (upTo === undefined) return;
      client.read = Math.max(client.read, upTo);
      if (client.read >= client.initialEnd) client.initialEnd = 0;
      if (client.sent > client.read && client.pings.length === 0) sendPing(socket);
      this.onRead(socket.id);
    };
    socket.conn.on('packetCreate', onCreate);
    socket.conn.on('packet', onPacket);
    socket.once('disconnect', () => {
      socket.conn.off('packetCreate', onCreate);
      socket.conn.off('packet', onPacket);
      this.clients.delete(socket.id);
    });
  }

  /**
   * `bytes` went out to the client (`initial`: its connection's first state, which it may
   * hold queued beyond the slow-client bound until it has read it). Asks it to say when it
   * has read them, unless a ping is on its way already (its pong comes first; then this).
   */
  sent(socket: Socket, bytes: number, initial = false): void {
    const client = this.clients.get(socket.id);
    if (!client || bytes <= 0) return;
    client.sent += bytes;
    if (initial) client.initialEnd = client.sent;
    if (client.pings.length === 0) sendPing(socket);
  }

  /** Bytes sent to a client that it has not certainly read yet (0 for one not tracked). */
  unread(id: string): number {
    const client = this.clients.get(id);
    return client ? client.sent - client.read : 0;
  }

  /** The part of a client's initial data it may still hold queued (not counted as slow). */
  initialUnread(id: string): number {
    const client = this.clients.get(id);
    return client && client.initialEnd > 0 ? client.initialEnd - client.read : 0;
  }

  /** Forgets every client. Idempotent. */
  close(): void {
    this.clients.clear();
  }
}
