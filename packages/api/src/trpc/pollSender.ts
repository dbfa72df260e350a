import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  errors,
  Limits,
  type Poll,
  type SendPollInput,
  type SendPollResult,
  type SendPollsInput,
  type SendPollsResult,
  type SendProgressEvent,
  type SessionState,
} from '@pollmasters/shared';
import { toErrorInfo } from './errors.js';
import { EventQueue } from './eventQueue.js';

interface Progress {
  id: string;
  n: number;
  event: SendProgressEvent;
}

interface SendRecord {
  events: Progress[];
  listeners: Set<(p: Progress) => void>;
  started: boolean;
  done: boolean;
  expiry: NodeJS.Timeout | null;
}

/** What the sender needs of a session: whether it is ready, and one send at a time. */
export interface SendingSession {
  readonly sessionState: SessionState;
  sendPoll(poll: SendPollInput): Promise<Poll>;
}

export interface PollSenderOptions {
  session: SendingSession;
  /** Pause between two sends to WhatsApp, over all callers. */
  delayMs: number;
  /** How long a send's progress stays available after it ends (or while nothing starts it). */
  retainMs?: number;
  /** Sends whose progress is kept at most; the oldest finished ones go first. */
  maxRecords?: number;
}

/** What a chat that a send did not reach before the server stopped gets as its result. */
const shuttingDown = () => errors.workerGone('not sent: the server is shutting down');

/**
 * Sends a poll to many chats: one chat at a time with `delayMs` between any two sends of the
 * process (so concurrent callers cannot burst either), a result per chat, and progress events
 * that a subscriber can follow by `sendId`, also when it subscribes late.
 */
export class PollSender {
  private readonly options: Required<PollSenderOptions>;
  private tail: Promise<unknown> = Promise.resolve();
  private lastSendAt = Number.NEGATIVE_INFINITY;
  private readonly records = new Map<string, SendRecord>();
  /** Aborted by `close`: wakes the sends that wait for their turn. */
  private readonly closing = new AbortController();

  constructor(options: PollSenderOptions) {
    this.options = { retainMs: 5 * 60_000, maxRecords: 256, ...options };
  }

  async send(input: SendPollsInput): Promise<SendPollsResult> {
    const { status } = this.options.session.sessionState;
    if (status !== 'ready') throw errors.notReady(status);
    const sendId = input.sendId ?? randomUUID();
    const record = this.record(sendId);
    if (record.started) throw errors.conflict(`a send with sendId ${sendId} already ran`);
    record.started = true;
    this.keep(sendId, record, false);

    const total = input.chatIds.length;
    const results: SendPollResult[] = [];
    for (const [index, chatId] of input.chatIds.entries()) {
      const { question, options, selectableCount } = input;
      const result: SendPollResult = await this.paced(() =>
        this.options.session.sendPoll({ chatId, question, options, selectableCount }),
      ).then(
        (poll) => ({ chatId, ok: true, pollId: poll.id }),
        (err: unknown) => ({ chatId, ok: false, error: toErrorInfo(err) }),
      );
      results.push(result);
      this.publish(sendId, record, { type: 'result', sendId, index, total, result });
    }
    const sent = results.filter((r) => r.ok).length;
    const failed = total - sent;
    this.publish(sendId, record, { type: 'done', sendId, total, sent, failed });
    record.done = true;
    this.keep(sendId, record, true);
    return { sendId, results, sent, failed };
  }

  /**
   * The progress of send `sendId` (which may start later), with ids `${sendId}.${n}`: what
   * happened after `lastEventId`, then live events until `done`.
   */
  async *progress(
    sendId: string,
    lastEventId: string | null | undefined,
    signal?: AbortSignal,
  ): AsyncGenerator<Progress, void, undefined> {
    const record = this.record(sendId);
    const queue = new EventQueue<Progress>(Limits.maxChatsPerSend + 2, signal);
    const listener = (p: Progress) => queue.push(p);
    // Listen before reading what happened so far: nothing falls in between.
    record.listeners.add(listener);
    try {
      const prefix = `${sendId}.`;
      const resumeAt = lastEventId?.startsWith(prefix)
        ? Number(lastEventId.slice(prefix.length))
        : -1;
      let last = Number.isInteger(resumeAt) ? resumeAt : -1;
      for (const p of [...record.events]) {
        if (p.n <= last) continue;
        last = p.n;
        yield p;
        if (p.event.type === 'done') return;
      }
      for await (const p of queue) {
        if (p.n <= last) continue;
        last = p.n;
        yield p;
        if (p.event.type === 'done') return;
      }
    } finally {
      record.listeners.delete(listener);
      queue.end();
    }
  }

  private paced<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(async () => {
      const wait = this.lastSendAt + this.options.delayMs - Date.now();
      const { signal } = this.closing;
      if (wait > 0) await delay(wait, undefined, { signal, ref: false }).catch(() => {});
      if (signal.aborted) throw shuttingDown();
      try {
        return await fn();
      } finally {
        this.lastSendAt = Date.now();
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  private publish(sendId: string, record: SendRecord, event: SendProgressEvent): void {
    const progress: Progress = {
      id: `${sendId}.${record.events.length}`,
      n: record.events.length,
      event,
    };
    record.events.push(progress);
    for (const listener of record.listeners) listener(progress);
  }

  private record(sendId: string): SendRecord {
    let record = this.records.get(sendId);
    if (!record) {
      record = { events: [], listeners: new Set(), started: false, done: false, expiry: null };
      this.records.set(sendId, record);
      this.keep(sendId, record, true);
      this.evict();
    }
    return record;
  }

  /** Schedules (or, while the send runs, cancels) forgetting a record. */
  private keep(sendId: string, record: SendRecord, expire: boolean): void {
    if (record.expiry) clearTimeout(record.expiry);
    record.expiry = null;
    if (!expire) return;
    record.expiry = setTimeout(() => {
      if (this.records.get(sendId) === record) this.records.delete(sendId);
    }, this.options.retainMs);
    record.expiry.unref();
  }

  private evict(): void {
    for (const [id, record] of this.records) {
      if (this.records.size <= this.options.maxRecords) return;
      if (record.started && !record.done) continue;
      if (record.expiry) clearTimeout(record.expiry);
      this.records.delete(id);
    }
  }

  /**
   * Stops: a send under way finishes the chat it is sending to, and reports every chat after it
   * as not sent; no send starts. Forgets every record and its timers.
   */
  close(): void {
    this.closing.abort();
    for (const record of this.records.values()) if (record.expiry) clearTimeout(record.expiry);
    this.records.clear();
  }
}
