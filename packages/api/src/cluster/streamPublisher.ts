import { PollMastersError } from '@pollmasters/shared';
import type { Logger } from 'pino';
import { delay } from '../delay.js';
import type { SessionReport } from '../session/sessionReport.js';
import type { SessionService } from '../session/sessionService.js';
import type { StreamAppender } from './streamAppender.js';

/**
 * The owner's publishing of a session's reports: each appended in order (./streamAppender.ts).
 * An append that fails (Redis unreachable) leaves a hole in the stream: the session then
 * reports its whole state again (a resync), every second until one went in whole, so that
 * every node converges. An append refused for a lost lease is not retried: the lease loop
 * makes this node a remote one.
 */
export class StreamPublisher {
  private dirty = false;
  private resyncing = false;
  private lastAppend: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly service: SessionService,
    private readonly appender: StreamAppender,
    private readonly logger: Logger,
  ) {}

  publish(report: SessionReport): void {
    this.lastAppend = this.appender.append(report).catch((err: unknown) => this.failed(err));
  }

  /** Stops retrying (the session is no longer this node's). */
  stop(): void {
    this.stopped = true;
  }

  private failed(err: unknown): void {
    const { sessionId } = this.service;
    if (PollMastersError.from(err).code === 'CONFLICT') {
      this.logger.warn({ sessionId }, 'lease lost: events of the session are no longer published');
      return;
    }
    if (!this.dirty) {
      this.logger.error({ err, sessionId }, 'appending to the event stream failed; resyncing');
    }
    this.dirty = true;
    if (this.resyncing) return;
    this.resyncing = true;
    void (async () => {
      while (this.dirty && !this.stopped) {
        await delay(1_000);
        this.dirty = false;
        try {
          await this.service.resync(true);
          // A failure of one of its appends marks it dirty again.
          await this.lastAppend;
        } catch (resyncErr) {
          this.dirty = true;
          this.logger.warn({ err: resyncErr, sessionId }, 'resync failed; retrying');
        }
      }
      this.resyncing = false;
    })();
  }
}
