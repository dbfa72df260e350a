import type { EdgeContext } from '../edge.js';
import type { SessionView } from '../session/sessionService.js';

/** The members of the session that the compat API uses. */
export type CompatSession = SessionView<
  | 'sessionState'
  | 'listPolls'
  | 'listPollHeads'
  | 'getPoll'
  | 'sendPoll'
  | 'listChats'
  | 'logout'
  | 'votesCounted'
>;

/** What the compat API is mounted with: the server's edge context, with a narrow session. */
export type CompatContext = Omit<EdgeContext, 'session' | 'sessions' | 'auth'> & {
  session: CompatSession;
};

export interface CompatOptions {
  /**
   * At most one `poll_update_to_gui` per poll per this many milliseconds (> 0; default 50): 20
   * full states a second per poll, about as often as a person can see a number change, so a
   * vote reaches the GUI within about 50 ms plus the pipeline (docs/performance.md, issue 21).
   */
  coalesceMs?: number;
  /** Unsent bytes a Socket.IO client may have queued before it is disconnected (default 4 MiB). */
  maxBufferedBytes?: number;
  /**
   * Bytes of `poll_update_to_gui` per second over all polls together. Default: 32 MiB while the
   * API thread has time to spare (ten busy polls of up to 1,000 voters at 20 pushes a second
   * take 20 MB/s), 4 MiB while more than 5,000 votes a second came in the last 250 ms or the
   * thread was busy more than 80 % of it (./pushBudget.ts): with many big polls busy at once,
   * each is pushed less often instead of all flooding the clients.
   * Building and encoding a state costs the API thread time in proportion to its size, and the
   * GUI as much again to read it: a larger budget got the last states of a burst out sooner but
   * raised the tRPC stream's latency under load (measured: docs/performance.md, "GUI pushes
   * that reach a reading client"). A client that reads slower than this is skipped, not queued
   * for (./guiPushes.ts). Once no vote has come for two poll intervals, the budget refills sixteen
   * times as fast, to get the final states out (the per-round cap still lets other events
   * through; slow clients are still skipped).
   */
  pushBytesPerSec?: number;
}
