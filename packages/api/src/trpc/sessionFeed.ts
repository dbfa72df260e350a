import { EventEmitter } from 'node:events';
import type { SessionEvent, SessionState } from '@pollmasters/shared';

/**
 * The session's state with an id per change (`${epoch}-s${n}`). State is a whole, so a
 * subscriber that resumes only needs the current state, and only if it missed a change.
 */
export class SessionFeed extends EventEmitter<{ change: [{ id: string; event: SessionEvent }] }> {
  private seq = 0;
  private current: { id: string; event: SessionEvent };

  constructor(
    private readonly epoch: string,
    state: SessionState,
  ) {
    super();
    this.setMaxListeners(0);
    this.current = { id: `${epoch}-s0`, event: { type: 'state', state } };
  }

  get latest(): { id: string; event: SessionEvent } {
    return this.current;
  }

  update(state: SessionState): void {
    this.seq += 1;
    this.current = { id: `${this.epoch}-s${this.seq}`, event: { type: 'state', state } };
    this.emit('change', this.current);
  }
}
