import type { Server, Socket } from 'socket.io';
import { JsonText } from './jsonText.js';
import { ReadAcks } from './readAcks.js';
import { bufferedBytes, dropIfSlow, writeBufferOf } from './slowClients.js';

/**
 * Bytes queued, or sent and not read, from which a client is skipped as busy (at most a
 * quarter of the drop bound).
 */
export const BUSY_BYTES = 1024 * 1024;

/** What one push did. */
export interface PushResult {
  /** Characters of JSON sent (once however many clients got them); 0 when nobody was ready. */
  bytes: number;
  /** Some clients were busy and still wait for this state: push it again later. */
  owed: boolean;
}

/**
 * Sends `poll_update_to_gui` (a poll's full state) to every Socket.IO client that has taken
 * what it was sent before, encoded once for all of them (one broadcast). A client that is
 * behind (its write buffer has not drained, or it has not read what it was sent: ./readAcks.ts)
 * is skipped instead of queued behind: it is owed the poll, and the caller pushes the poll
 * again later (within its budget, ./coalescer.ts) to the clients owed it, by then with the
 * newest state, as soon as they caught up. So a slow client holds at most about one state in
 * the server's memory however many it missed, never gets an older state after a newer one,
 * and its heartbeat never waits behind more than about `busyBytes`. One whose buffer still
 * exceeds `maxBytes` (other events queued; its initial data not counted) is disconnected as
 * ./slowClients.ts does; one that stopped reading altogether is ended by engine.io's heartbeat.
 * Either gets the whole state in `initial_poll_data` when it reconnects.
 */
export class GuiPushes {
  /** The newest version pushed, per poll. */
  private readonly versions = new Map<string, number>();
  /** Per poll: clients that were busy when its newest version went out. */
  private readonly owed = new Map<string, Set<string>>();

  /**
   * A client counts as busy from this many bytes queued, or sent and not read yet. Not from
   * the first byte: while one write is on its way to the kernel, engine.io queues every later
   * packet, so a client that reads at once would still be skipped by all but the first push or
   * two of each round.
   */
  private readonly busyBytes: number;

  /** Busy clients that were skipped: when one catches up, what it is owed can go. */
  private readonly skipped = new Set<string>();

  /** What each client has read (./readAcks.ts). */
  private readonly acks: ReadAcks;

  constructor(
    private readonly io: Server,
    private readonly maxBytes: number,
    private readonly onSlowClient: (id: string, bytes: number) => void,
    /** A busy client caught up (its queue went out, or it read what it was sent). */
    private readonly onDrain: () => void = () => {},
  ) {
    this.busyBytes = Math.min(BUSY_BYTES, maxBytes / 4);
    this.acks = new ReadAcks((id) => this.caughtUp(id));
  }

  /** Follows a new client; call on connection, before anything is sent to it. */
  track(socket: Socket): void {
    this.acks.track(socket);
    const { id } = socket;
    // engine.io emits `drain` whenever its write buffer is handed to the transport.
    const onDrain = () => this.caughtUp(id);
    socket.conn.on('drain', onDrain);
    socket.once('disconnect', () => {
      socket.conn.off('drain', onDrain);
      this.skipped.delete(id);
    });
  }

  /**
   * The connection's initial data (`initial_poll_data`) went to a client: it counts as unread
   * (no push queues behind it) but not as slow while the client has not read it (a client
   * that connects during a flood of votes is not dropped for the state it is being given).
   */
  sentInitial(socket: Socket, bytes: number): void {
    this.acks.sent(socket, bytes, true);
  }

  /** Bytes queued for a client beyond what it may hold (its initial data), for the drop bound. */
  excess(socket: Socket, queued: number): number {
    return queued - this.acks.initialUnread(socket.id);
  }

  /**
   * Pushes a state of a poll: a newer version to every client, the same version again only to
   * the clients that still owe it. `stateJson` (the state as `pollUpdateJson` writes it) is
   * built only when some client is ready for it.
   */
  send(pollId: string, version: number, stateJson: () => string | undefined): PushResult {
    const sockets = this.io.of('/').sockets;
    const fresh = version > (this.versions.get(pollId) ?? -1);
    let targets: Iterable<string>;
    if (fresh) {
      this.versions.set(pollId, version);
      targets = sockets.keys();
    } else {
      targets = this.owed.get(pollId) ?? [];
    }
    const ready: Socket[] = [];
    const busy = new Set<string>();
    for (const id of targets) {
      const socket = sockets.get(id);
      if (!socket) continue;
      const queue = writeBufferOf(socket);
      const queued = queue.length === 0 ? 0 : bufferedBytes(queue);
      if (queued < this.busyBytes && this.acks.unread(id) < this.busyBytes) {
        ready.push(socket);
        continue;
      }
      if (dropIfSlow(socket, this.excess(socket, queued), this.maxBytes, this.onSlowClient)) {
        continue;
      }
      busy.add(id);
      this.skipped.add(id);
    }
    if (busy.size > 0) this.owed.set(pollId, busy);
    else this.owed.delete(pollId);

    let bytes = 0;
    const json = ready.length > 0 ? stateJson() : undefined;
    if (json !== undefined) {
      // Built as JSON text once, and encoded once for every client it goes to (one broadcast).
      const payload = new JsonText(json);
      if (fresh && busy.size === 0 && ready.length === sockets.size) {
        this.io.emit('poll_update_to_gui', payload);
      } else {
        this.io.to(ready.map((s) => s.id)).emit('poll_update_to_gui', payload);
      }
      bytes = json.length;
      for (const socket of ready) this.acks.sent(socket, bytes);
    }
    return { bytes, owed: busy.size > 0 };
  }

  /** Forgets every poll and client. Idempotent. */
  close(): void {
    this.versions.clear();
    this.owed.clear();
    this.skipped.clear();
    this.acks.close();
  }

  private caughtUp(id: string): void {
    if (this.skipped.delete(id)) this.onDrain();
  }
}
