import { ErrorCode, errors, PollMastersError } from '../../errors.js';
import { type Logger, silentLogger } from '../../logger.js';
import { describeIssues } from '../../validation.js';
import type { Port } from './port.js';
import {
  ChannelMessage,
  Command,
  type CommandOf,
  type CommandResult,
  type CommandType,
  toWire,
  WORKER_CHANNEL,
  type WorkerEvent,
  workerCommands,
} from './protocol.js';

/**
 * One handler per command, each returning that command's result; `sessionId` is the session
 * the call is addressed to (`WORKER_CHANNEL` for the worker's own commands).
 */
export type CommandHandlers = {
  [T in CommandType]: (
    command: CommandOf<T>,
    sessionId: string,
  ) => Promise<CommandResult<T>> | CommandResult<T>;
};

export interface ChannelServerOptions {
  handlers: CommandHandlers;
  logger?: Logger;
}

/**
 * The worker's end of the channel, for every session it hosts: answers calls with its
 * handlers (a session command must be addressed to a session, a worker command to the worker)
 * and emits each session's events.
 * A handler's error goes back as `{code, message}`; an invalid message is logged and
 * answered with an error, never thrown.
 */
export class ChannelServer {
  private readonly port: Port;
  private readonly handlers: CommandHandlers;
  private readonly logger: Logger;
  private closed = false;

  constructor(port: Port, options: ChannelServerOptions) {
    this.port = port;
    this.handlers = options.handlers;
    this.logger = options.logger ?? silentLogger;
    this.port.on('message', this.onMessage);
  }

  /** Tells the API that the worker (or one of its sessions) is set up. */
  ready(sessionId: string = WORKER_CHANNEL): void {
    this.post({ kind: 'ready', sessionId });
  }

  emit(sessionId: string, event: WorkerEvent): void {
    this.post({ kind: 'event', sessionId, event: toWire(event) });
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
    const command = Command.safeParse(msg.command);
    if (!command.success) {
      this.logger.warn({ id: msg.id, issues: command.error.issues }, 'invalid command');
      this.fail(msg.id, errors.badInput(describeIssues(command.error.issues)), msg.sessionId);
      return;
    }
    const forWorker = workerCommands.has(command.data.type);
    if (forWorker !== (msg.sessionId === WORKER_CHANNEL)) {
      const to = forWorker ? 'the worker' : 'a session';
      this.fail(
        msg.id,
        errors.invalidMessage(`'${command.data.type}' goes to ${to}`),
        msg.sessionId,
      );
      return;
    }
    void this.run(msg.id, msg.sessionId, command.data);
  };

  private async run(id: number, sessionId: string, command: Command): Promise<void> {
    const handler = this.handlers[command.type] as (c: Command, sessionId: string) => unknown;
    try {
      const result = await handler(command, sessionId);
      this.post({ kind: 'result', id, sessionId, result });
    } catch (err) {
      const error = PollMastersError.from(err);
      if (error.code === ErrorCode.INTERNAL) {
        this.logger.error({ err, type: command.type, sessionId }, 'command failed');
      }
      this.fail(id, error, sessionId);
    }
  }

  private fail(id: number | null, error: PollMastersError, sessionId = WORKER_CHANNEL): void {
    this.post({ kind: 'error', id, sessionId, error: error.toPayload() });
  }
}
