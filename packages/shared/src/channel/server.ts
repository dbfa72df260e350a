import { ErrorCode, errors, PollMastersError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { describeIssues } from '../validation.js';
import type { Port } from './port.js';
import {
  ChannelMessage,
  Command,
  type CommandOf,
  type CommandResult,
  type CommandType,
  type WorkerEvent,
} from './protocol.js';

/** One handler per command, each returning that command's result. */
export type CommandHandlers = {
  [T in CommandType]: (command: CommandOf<T>) => Promise<CommandResult<T>> | CommandResult<T>;
};

export interface ChannelServerOptions {
  sessionId: string;
  handlers: CommandHandlers;
  logger?: Logger;
}

/**
 * The worker's end of the channel: answers calls with its handlers and emits events.
 * A handler's error goes back as `{code, message}`; an invalid message is logged and
 * answered with an error, never thrown.
 */
export class ChannelServer {
  readonly sessionId: string;
  private readonly port: Port;
  private readonly handlers: CommandHandlers;
  private readonly logger: Logger;
  private closed = false;

  constructor(port: Port, options: ChannelServerOptions) {
    this.port = port;
    this.sessionId = options.sessionId;
    this.handlers = options.handlers;
    this.logger = options.logger ?? silentLogger;
    this.port.on('message', this.onMessage);
  }

  /** Tells the API that this worker is set up; call once, after setup. */
  ready(): void {
    this.post({ kind: 'ready', sessionId: this.sessionId });
  }

  emit(event: WorkerEvent): void {
    this.post({ kind: 'event', sessionId: this.sessionId, event });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.off('message', this.onMessage);
  }

  private post(message: ChannelMessage): void {
    if (!this.closed) this.port.postMessage(message);
  }

  private readonly onMessage = (raw: unknown): void => {
    const parsed = ChannelMessage.safeParse(raw);
    if (!parsed.success) {
      this.logger.warn({ issues: parsed.error.issues }, 'invalid channel message');
      this.fail(null, errors.invalidMessage('message does not match the channel protocol'));
      return;
    }
    const msg = parsed.data;
    if (msg.kind === 'error') {
      // Never answer an error with an error: that could ping-pong forever.
      this.logger.warn({ error: msg.error, id: msg.id }, 'the API reported a channel error');
      return;
    }
    if (msg.kind !== 'call') {
      this.logger.warn({ kind: msg.kind }, 'unexpected message kind on the worker side');
      this.fail(null, errors.invalidMessage(`'${msg.kind}' is not accepted by the worker`));
      return;
    }
    if (msg.sessionId !== this.sessionId) {
      this.fail(msg.id, errors.invalidMessage(`this worker serves session '${this.sessionId}'`));
      return;
    }
    const command = Command.safeParse(msg.command);
    if (!command.success) {
      this.logger.warn({ id: msg.id, issues: command.error.issues }, 'invalid command');
      this.fail(msg.id, errors.badInput(describeIssues(command.error.issues)));
      return;
    }
    void this.run(msg.id, command.data);
  };

  private async run(id: number, command: Command): Promise<void> {
    const handler = this.handlers[command.type] as (c: Command) => unknown;
    try {
      const result = await handler(command);
      this.post({ kind: 'result', id, sessionId: this.sessionId, result });
    } catch (err) {
      const error = PollMastersError.from(err);
      if (error.code === ErrorCode.INTERNAL) {
        this.logger.error({ err, type: command.type }, 'command failed');
      }
      this.fail(id, error);
    }
  }

  private fail(id: number | null, error: PollMastersError): void {
    this.post({ kind: 'error', id, sessionId: this.sessionId, error: error.toPayload() });
  }
}
