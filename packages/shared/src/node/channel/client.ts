import { ErrorCode, errors, PollMastersError } from '../../errors.js';
import { type Logger, silentLogger } from '../../logger.js';
import { describeIssues } from '../../validation.js';
import type { Port } from './port.js';
import {
  ChannelMessage,
  Command,
  type CommandOf,
  CommandResult,
  type CommandType,
  WorkerEvent,
  type WorkerEventOf,
  type WorkerEventType,
} from './protocol.js';

interface Pending {
  type: CommandType;
  resolve: (value: unknown) => void;
  reject: (error: PollMastersError) => void;
  timer: NodeJS.Timeout;
}

export interface ChannelClientOptions {
  sessionId: string;
  logger?: Logger;
  /** Default per-call timeout. */
  timeoutMs?: number;
}

type Listener<T extends WorkerEventType> = (event: WorkerEventOf<T>) => void;

/**
 * The API's end of a worker channel, for one session of the worker (or the worker itself,
 * `WORKER_CHANNEL`): `call(command)` resolves to the command's typed result,
 * `on(type, listener)` receives the worker's typed events. Everything received is validated;
 * an invalid message is logged and answered with an error, never thrown.
 */
export class ChannelClient {
  readonly sessionId: string;
  private readonly port: Port;
  private readonly logger: Logger;
  private readonly timeoutMs: number;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<WorkerEventType, Set<(event: WorkerEvent) => void>>();
  private readonly readyWaiters = new Set<() => void>();
  private nextId = 1;
  private isReady = false;
  private closed: PollMastersError | null = null;

  constructor(port: Port, options: ChannelClientOptions) {
    this.port = port;
    this.sessionId = options.sessionId;
    this.logger = options.logger ?? silentLogger;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.port.on('message', this.onMessage);
  }

  get ready(): boolean {
    return this.isReady;
  }

  /** Resolves when the worker has posted `ready`. */
  whenReady(): Promise<void> {
    if (this.isReady) return Promise.resolve();
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve) => this.readyWaiters.add(resolve));
  }

  call<T extends CommandType>(
    command: CommandOf<T>,
    options: { timeoutMs?: number } = {},
  ): Promise<CommandResult<T>> {
    if (this.closed) return Promise.reject(this.closed);
    const parsed = Command.safeParse(command);
    if (!parsed.success) {
      return Promise.reject(errors.badInput(describeIssues(parsed.error.issues)));
    }
    const id = this.nextId++;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise<CommandResult<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(errors.timeout(`${command.type} call`, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, {
        type: command.type,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer,
      });
      this.port.postMessage({
        kind: 'call',
        id,
        sessionId: this.sessionId,
        command: parsed.data,
      } satisfies ChannelMessage);
    });
  }

  /** Listens for one event type; returns the function that stops listening. */
  on<T extends WorkerEventType>(type: T, listener: Listener<T>): () => void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    const l = listener as (event: WorkerEvent) => void;
    set.add(l);
    return () => set.delete(l);
  }

  /** Rejects every call in flight with `error`; later calls too once `closed` is set. */
  rejectAll(error: PollMastersError): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(error);
    }
  }

  /** Stops listening to the port and fails every pending and future call. Idempotent. */
  close(error: PollMastersError = errors.workerGone('the worker channel is closed')): void {
    if (this.closed) return;
    this.closed = error;
    this.isReady = false;
    this.port.off('message', this.onMessage);
    this.rejectAll(error);
    this.readyWaiters.clear();
  }

  private readonly onMessage = (raw: unknown): void => {
    const parsed = ChannelMessage.safeParse(raw);
    if (!parsed.success) {
      this.logger.warn({ issues: parsed.error.issues }, 'invalid message from worker');
      this.answerInvalid(null, 'message does not match the channel protocol');
      return;
    }
    const msg = parsed.data;
    // A worker hosts several sessions, each with its client on the same port: the others' are
    // theirs to handle.
    if (msg.sessionId !== this.sessionId) return;
    switch (msg.kind) {
      case 'ready':
        this.isReady = true;
        for (const w of this.readyWaiters) w();
        this.readyWaiters.clear();
        return;
      case 'event':
        this.dispatchEvent(msg.event);
        return;
      case 'result':
        this.settle(msg.id, (p) => {
          const result = CommandResult[p.type].safeParse(msg.result);
          if (result.success) p.resolve(result.data);
          else {
            this.logger.warn(
              { type: p.type, issues: result.error.issues },
              'invalid result from worker',
            );
            p.reject(errors.invalidMessage(`invalid ${p.type} result from the worker`));
          }
        });
        return;
      case 'error':
        if (msg.id === null) {
          this.logger.warn({ error: msg.error }, 'worker reported an error');
          return;
        }
        this.settle(msg.id, (p) =>
          p.reject(new PollMastersError(msg.error.code as ErrorCode, msg.error.message)),
        );
        return;
      case 'call':
        this.logger.warn({ id: msg.id }, 'the worker may not call the API');
        this.answerInvalid(msg.id, 'calls are not accepted on this side of the channel');
        return;
    }
  };

  private dispatchEvent(raw: unknown): void {
    const parsed = WorkerEvent.safeParse(raw);
    if (!parsed.success) {
      this.logger.warn({ issues: parsed.error.issues }, 'invalid event from worker');
      this.answerInvalid(null, 'event does not match the channel protocol');
      return;
    }
    const event = parsed.data;
    for (const listener of this.listeners.get(event.type) ?? []) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err, type: event.type }, 'event listener threw');
      }
    }
  }

  private settle(id: number, fn: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (!p) {
      this.logger.debug({ id }, 'reply for a call that is no longer pending');
      return;
    }
    this.pending.delete(id);
    clearTimeout(p.timer);
    fn(p);
  }

  private answerInvalid(id: number | null, message: string): void {
    this.port.postMessage({
      kind: 'error',
      id,
      sessionId: this.sessionId,
      error: { name: 'PollMastersError', code: ErrorCode.INVALID_MESSAGE, message },
    } satisfies ChannelMessage);
  }
}
