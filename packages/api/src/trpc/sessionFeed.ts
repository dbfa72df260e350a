import { EventEmitter } from 'node:events';
import type { SessionEvent, SessionState } from '@pollmasters/shared';
import type { EventPosition } from '../session/sessionReport.js';

/**
 * The session's state with an id per change (`${epoch}-s${n}`). State is a whole, so a
 * subscriber that resumes only needs the current state, and only if it missed a change. On a
 * cluster node `n` is the change's place in the session's stream, the same on every node.
 */
export class SessionFeed extends EventEmitter<{ change: [{ id: string; event: SessionEvent }] }> {
  private seq = 0;
  private current: { id: string; event: SessionEvent };

  constructor(
    private epoch: string,
    state: SessionState,
  ) {
    super();
    this.setMaxListeners(0);
    this.current = { id: `${epoch}-s0`, event: { type: 'state', state } };
  }

  get latest(): { id: string; event: SessionEvent } {
    return this.current;
  }

  /** Ids from now on are of the session stream's epoch (its changes come with positions). */
  restartAt(at: EventPosition): void {
    this.epoch = at.epoch;
    this.seq = at.seq;
    this.current = { id: `${at.epoch}-s${at.seq}`, event: this.current.event };
  }

  update(state: SessionState, at?: EventPosition): void {
    if (at && at.epoch !== this.epoch) return;
    this.seq = at ? at.seq : this.seq + 1;
    this.current = { id: `${this.epoch}-s${this.seq}`, event: { type: 'state', state } };
    this.emit('change', this.current);
  }
}
