import type { Poll } from '@pollmasters/shared';
import type { Server, Socket } from 'socket.io';
import { bufferedBytes } from './slowClients.js';
import { pollUpdateToGui } from './views.js';

/** A Socket.IO client that was skipped while busy, and what it is owed. */
interface Owed {
  socket: Socket;
  /** Polls whose newest state it has not been given, longest-owed first. */
  polls: Set<string>;
  /** Bytes of the states it was skipped for since its buffer last drained. */
  bytes: number;
  onDrain: () => void;
  onDisconnect: () => void;
}

/** Approximately the JSON length of a poll's `poll_update_to_gui`, without building it. */
export const estimateBytes = (poll: Poll): number => {
  let bytes = 200 + poll.question.length + poll.chatId.length + poll.id.length;
  for (const o of poll.options) bytes += 2 * o.name.length + 80;
  for (const v of poll.voters) bytes += v.voter.length + 6 + 67 * v.selected.length;
  return bytes;
};

/**
 * Sends `poll_update_to_gui` (a poll's full state) to every Socket.IO client that has taken
 * what it was sent before, encoded once for all of them (one broadcast). A client whose
 * write buffer has not drained is skipped instead of queued behind: it is owed the poll and
 * gets its newest state, one poll per drain, once it reads again. A client owed more than
 * `maxBytes` (skipped states plus what still waits for it) has stopped reading and is
 * disconnected, as ./slowClients.ts does for the other broadcasts; it gets the whole state in
 * `initial_poll_data` when it reconnects.
 */
export class GuiPushes {
  private readonly owed = new Map<string, Owed>();
  /** The newest state given or owed, per poll (for the owed clients). */
  private readonly latest = new Map<string, () => Poll | undefined>();

  constructor(
    private readonly io: Server,
    private readonly maxBytes: number,
    private readonly onSlowClient: (id: string, bytes: number) => void,
  ) {}

  /** Pushes the newest state of a poll; returns its (approximate) size in bytes. */
  send(pollId: string, state: () => Poll | undefined): number {
    const poll = state();
    if (!poll) return 0;
    this.latest.set(pollId, state);
    const bytes = estimateBytes(poll);
    const busy: Socket[] = [];
    let ready = 0;
    for (const socket of this.io.of('/').sockets.values()) {
      if (this.isBusy(socket)) busy.push(socket);
      else {
        ready += 1;
        this.owed.get(socket.id)?.polls.delete(pollId);
      }
    }
    if (ready > 0) {
      const payload = pollUpdateToGui(poll);
      if (busy.length === 0) this.io.emit('poll_update_to_gui', payload);
      else this.io.except(busy.map((s) => s.id)).emit('poll_update_to_gui', payload);
    }
    for (const socket of busy) this.owe(socket, pollId, bytes);
    return ready > 0 ? bytes : 0;
  }

  /** Forgets every owed client. Idempotent. */
  close(): void {
    for (const owed of this.owed.values()) this.forget(owed);
    this.latest.clear();
  }

  private isBusy(socket: Socket): boolean {
    // engine.io's queue of packets its transport has not taken yet (private in its types).
    return (socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length > 0;
  }

  private owe(socket: Socket, pollId: string, bytes: number): void {
    let owed = this.owed.get(socket.id);
    if (!owed) {
      const entry: Owed = {
        socket,
        polls: new Set(),
        bytes: 0,
        onDrain: () => this.drained(entry),
        onDisconnect: () => this.forget(entry),
      };
      owed = entry;
      this.owed.set(socket.id, entry);
      socket.conn.on('drain', entry.onDrain);
      socket.once('disconnect', entry.onDisconnect);
    }
    owed.polls.add(pollId);
    owed.bytes += bytes;
    const buffer = (socket.conn as unknown as { writeBuffer: { data?: unknown }[] }).writeBuffer;
    const total = owed.bytes + bufferedBytes(buffer);
    if (total > this.maxBytes) {
      this.forget(owed);
      this.onSlowClient(socket.id, total);
      socket.disconnect(true);
    }
  }

  /** The client's buffer went to its transport: give it the longest-owed poll's newest state. */
  private drained(owed: Owed): void {
    owed.bytes = 0;
    for (const pollId of owed.polls) {
      owed.polls.delete(pollId);
      const poll = this.latest.get(pollId)?.();
      if (!poll) continue;
      owed.socket.emit('poll_update_to_gui', pollUpdateToGui(poll));
      break;
    }
    if (owed.polls.size === 0) this.forget(owed);
  }

  private forget(owed: Owed): void {
    if (this.owed.get(owed.socket.id) !== owed) return;
    this.owed.delete(owed.socket.id);
    owed.socket.conn.off('drain', owed.onDrain);
    owed.socket.off('disconnect', owed.onDisconnect);
  }
}
