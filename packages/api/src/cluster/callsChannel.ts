import { randomUUID } from 'node:crypto';
import {
  ErrorPayload,
  errors,
  type Logger,
  PollMastersError,
  SessionId,
} from '@pollmasters/shared';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { callsChannelOf } from './streamKeys.js';

const CallMessage = z.object({
  kind: z.literal('call'),
  id: z.string().min(1),
  /** The node that waits for the reply. */
  from: z.string().min(1),
  sessionId: SessionId,
  request: z.unknown(),
});
const ReplyMessage = z.object({
  kind: z.literal('reply'),
  id: z.string().min(1),
  result: z.unknown().optional(),
  error: ErrorPayload.optional(),
});
const Message = z.discriminatedUnion('kind', [CallMessage, ReplyMessage]);

/** Runs a request for a session this node serves; what it throws goes back as the error. */
export type Serve = (sessionId: string, request: unknown) => Promise<unknown>;

export interface CallsChannelOptions {
  /** For publishing; the channel subscribes on a copy of it. */
  redis: Redis;
  prefix: string;
  nodeId: string;
  logger: Logger;
  serve: Serve;
  /** How long a caller waits for the reply (more than the owner's worker call timeout). */
  timeoutMs?: number;
  /**
   * Whether `nodeId` still holds a session, asked every `watchMs` while a call to it waits: a
   * call to a node that lost it (or died) fails then instead of at its timeout.
   */
  holds?: (sessionId: string, nodeId: string) => Promise<boolean>;
  watchMs?: number;
}

interface Pending {
  resolve: (result: unknown) => void;
  reject: (error: PollMastersError) => void;
  timers: NodeJS.Timeout[];
}

/**
 * Request and reply between nodes over Redis pub/sub: each node listens on its own channel
 * (`<prefix>calls:<nodeId>`) for calls to it and for the replies to its calls. A call carries
 * an id that its reply echoes, and gets a `PollMastersError` when it cannot be answered: the
 * owner's own (BAD_INPUT, NOT_READY, ...), WORKER_GONE when no node listens on the owner's
 * channel or the owner lost the session while the call waited, TIMEOUT after `timeoutMs`.
 */
export class CallsChannel {
  private readonly subscriber: Redis;
  private readonly pending = new Map<string, Pending>();
  private readonly channel: string;
  private closed = false;

  constructor(private readonly options: CallsChannelOptions) {
    this.channel = callsChannelOf(options.prefix, options.nodeId);
    this.subscriber = options.redis.duplicate();
    this.subscriber.on('error', (err) => options.logger.debug({ err }, 'calls connection'));
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.received(text);
    });
  }

  /** Listens on this node's channel; resolves once subscribed. */
  async start(): Promise<void> {
    await this.subscriber.subscribe(this.channel);
  }

  /** Sends `request` for `sessionId` to `nodeId` and waits for its reply. */
  call(nodeId: string, sessionId: string, request: unknown): Promise<unknown> {
    if (this.closed) return Promise.reject(errors.workerGone('this node is stopping'));
    const { timeoutMs = 65_000, watchMs = 2_000, holds } = this.options;
    const id = randomUUID();
    const reply = new Promise<unknown>((resolve, reject) => {
      const timers = [
        setTimeout(() => {
          this.settle(id)?.reject(
            new PollMastersError(
              'TIMEOUT',
              `session ${sessionId}'s owner (node ${nodeId}) did not answer within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs),
      ];
      if (holds) {
        timers.push(
          setInterval(() => {
            holds(sessionId, nodeId).then(
              (still) => {
                if (still) return;
                this.settle(id)?.reject(
                  errors.workerGone(
                    `node ${nodeId} gave up session ${sessionId} while a call waited; try again`,
                  ),
                );
              },
              () => {},
            );
          }, watchMs),
        );
      }
      this.pending.set(id, { resolve, reject, timers });
    });
    const message = { kind: 'call', id, from: this.options.nodeId, sessionId, request };
    this.options.redis
      .publish(callsChannelOf(this.options.prefix, nodeId), JSON.stringify(message))
      .then(
        (receivers) => {
          if (receivers > 0) return;
          this.settle(id)?.reject(
            errors.workerGone(
              `session ${sessionId}'s owner (node ${nodeId}) is not reachable; try again in a moment`,
            ),
          );
        },
        (err: unknown) => {
          this.settle(id)?.reject(PollMastersError.from(err, 'WORKER_GONE'));
        },
      );
    return reply;
  }

  /** Stops listening; calls in flight fail with WORKER_GONE. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.pending.keys()]) {
      this.settle(id)?.reject(errors.workerGone('this node is stopping'));
    }
    this.subscriber.disconnect();
  }

  private settle(id: string): Pending | undefined {
    const pending = this.pending.get(id);
    if (!pending) return undefined;
    this.pending.delete(id);
    for (const timer of pending.timers) clearTimeout(timer);
    return pending;
  }

  private received(text: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      raw = undefined;
    }
    const parsed = Message.safeParse(raw);
    if (!parsed.success) {
      this.options.logger.warn(
        { channel: this.channel },
        'ignored a message on the calls channel that is not a call or reply',
      );
      return;
    }
    const message = parsed.data;
    if (message.kind === 'reply') {
      const pending = this.settle(message.id);
      if (!pending) return;
      if (message.error) pending.reject(PollMastersError.fromPayload(message.error));
      else pending.resolve(message.result);
      return;
    }
    void this.answer(message);
  }

  private async answer(call: z.infer<typeof CallMessage>): Promise<void> {
    let reply: z.infer<typeof ReplyMessage>;
    try {
      reply = {
        kind: 'reply',
        id: call.id,
        result: await this.options.serve(call.sessionId, call.request),
      };
    } catch (err) {
      reply = { kind: 'reply', id: call.id, error: PollMastersError.from(err).toPayload() };
    }
    const to = callsChannelOf(this.options.prefix, call.from);
    await this.options.redis.publish(to, JSON.stringify(reply)).catch((err: unknown) => {
      this.options.logger.warn({ err, sessionId: call.sessionId }, 'could not send a reply');
    });
  }
}
