import type { VoteChange } from '@pollmasters/shared';
import type { SessionReport } from './sessionReport.js';

/**
 * Passes a session's reports on in their order, but gathers the `votes` events that arrive in
 * one turn of the event loop into one. The worker posts one event per batch of WhatsApp
 * messages; in an unthrottled burst the API falls behind and the port hands it several queued
 * events back to back, each of which cost one read-model update per poll, one `polls.updates`
 * event per subscriber (each poll's counts sent again) and one offer to the GUI's coalescer.
 * One event of their changes together is what the worker would have sent for one larger batch,
 * so every change still reaches every client, in order. An event that arrives alone waits only
 * for this turn's end (`setImmediate`); any other report first delivers the votes gathered
 * before it. A long backlog is delivered `maxChanges` at a time (at least), so that no single
 * event, and no single message to a subscriber, grows with it (docs/performance.md, "Session
 * 10: the API thread").
 */
export class VotesPerTurn {
  private pending: VoteChange[] | null = null;
  private scheduled: NodeJS.Immediate | null = null;

  constructor(
    private readonly deliver: (report: SessionReport) => void,
    private readonly maxChanges = 2_000,
  ) {}

  add(report: SessionReport): void {
    if (report.type !== 'votes') {
      this.flush();
      this.deliver(report);
      return;
    }
    const { changes } = report;
    if (this.pending) {
      for (let i = 0; i < changes.length; i++) this.pending.push(changes[i]!);
    } else {
      this.pending = changes;
    }
    if (this.pending.length >= this.maxChanges) this.flush();
    else this.scheduled ??= setImmediate(this.flush);
  }

  /** Delivers the votes gathered so far, now (before a state the API sets by itself). */
  readonly flush = (): void => {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    const changes = this.pending;
    this.pending = null;
    if (changes) this.deliver({ type: 'votes', changes });
  };
}
