import type { Poll } from '@pollmasters/shared';
import type { Server, Socket } from 'socket.io';
import { bufferedBytes, dropSlowClients } from './slowClients.js';
import { pollUpdateToGui } from './views.js';

/** A Socket.IO client that was skipped while busy, and what it is owed. */
interface Owed {
  socket: Socket;
  /** Polls whose newest state it has not been given, longest-owed first. */
  polls: Set<string>;
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
 * gets its newest state, one poll per drain, once it reads again. So a slow client holds at
 * most about one state in the server's memory, however many it missed, and never an older
 * state after a newer one. One whose buffer still exceeds `maxBytes` (other events queued)
 * is disconnected as ./slowClients.ts does; a client that stopped reading altogether is ended
 * by engine.io's heartbeat. Either gets the whole state in `initial_poll_data` on reconnect.
 *
 * With `skipBusy` false (coalescing turned off) every state goes to every client, queued
 * behind what it has not read, and ./slowClients.ts alone bounds the queue.
 */
export class GuiPushes {
  private readonly owed = new Map<string, Owed>();
  /** The newest state given or owed, per poll (for the owed clients). */
  private readonly latest = new Map<string, () => Poll | undefined>();

  constructor(
    private readonly io: Server,
    private readonly maxBytes: number,
    private readonly onSlowClient: (id: string, bytes: number) => void,
    private readonly skipBusy = true,
  ) {}

  /** Pushes the newest state of a poll; returns its (approximate) size in bytes. */
  send(pollId: string, state: () => Poll | undefined): number {
    const poll = state();
    if (!poll) return 0;
    this.latest.set(pollId, state);
    const bytes = estimateBytes(poll);
    if (!this.skipBusy) {
      dropSlowClients(this.io, this.maxBytes, this.onSlowClient);
      this.io.emit('poll_update_to_gui', pollUpdateToGui(poll));
      return bytes;
    }
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
    for (const socket of busy) this.owe(socket, pollId);
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

  private owe(socket: Socket, pollId: string): void {
    let owed = this.owed.get(socket.id);
    if (!owed) {
      const entry: Owed = {
        socket,
        polls: new Set(),
        onDrain: () => this.drained(entry),
        onDisconnect: () => this.forget(entry),
      };
      owed = entry;
      this.owed.set(socket.id, entry);
      socket.conn.on('drain', entry.onDrain);
      socket.once('disconnect', entry.onDisconnect);
    }
    owed.polls.add(pollId);
    const buffer = (socket.conn as unknown as { writeBuffer: { data?: unknown }[] }).writeBuffer;
    const queued = bufferedBytes(buffer);
    if (queued > this.maxBytes) {
      this.forget(owed);
      this.onSlowClient(socket.id, queued);
      socket.disconnect(true);
    }
  }

  /** The client's buffer went to its transport: give it the longest-owed poll's newest state. */
  private drained(owed: Owed): void {
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
