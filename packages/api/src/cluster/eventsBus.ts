import { errors } from '@pollmasters/shared';
import type { CommandOf, CommandResult, CommandType } from '@pollmasters/shared/node';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { newEpoch } from '../session/sessionReport.js';
import type { SessionService } from '../session/sessionService.js';
import { CallsChannel } from './callsChannel.js';
import { takeOwnersState } from './gapTakeover.js';
import {
  copyReadModel,
  RemoteRequest,
  readModelPage,
  resultOf,
  runCommand,
} from './remoteCommands.js';
import { StreamAppender } from './streamAppender.js';
import { entryFields, StreamFollower } from './streamFollower.js';
import { streamKeys } from './streamKeys.js';
import { StreamPublisher } from './streamPublisher.js';

export interface EventsBusOptions {
  /** A connection for commands; the bus makes its own copies for blocking reads and pub/sub. */
  redis: Redis;
  /** The cluster's key prefix (decision 3), e.g. `pollmasters:`. */
  prefix: string;
  nodeId: string;
  logger: Logger;
  /** Events a session's stream keeps, about. */
  maxLen?: number;
  /** How long a forwarded command waits for its owner's reply. */
  callTimeoutMs?: number;
}

type Role = 'follower' | 'owner' | 'remote';

interface Joined {
  service: SessionService;
  role: Role;
  /** Its publishing, while this node owns it. */
  publisher: StreamPublisher | null;
  /** It is joining again after a gap. */
  rejoining: boolean;
}

/**
 * A node's part of the cluster's events and commands (docs/cluster.md). Every session the node
 * serves is `join`ed: its read model is built (from its owner's, or from its stream) and then
 * fed from its stream. The node that holds its lease calls `becomeOwner`: what its worker
 * reports is appended to the stream, and commands from other nodes run on it. The others call
 * `becomeRemote`: its commands go to the owner. Either can follow the other when ownership moves.
 */
export class EventsBus {
  private readonly joined = new Map<string, Joined>();
  private readonly follower: StreamFollower;
  private readonly calls: CallsChannel;
  private readonly logger: Logger;

  constructor(private readonly options: EventsBusOptions) {
    this.logger = options.logger.child({ component: 'events-bus', nodeId: options.nodeId });
    this.follower = new StreamFollower({
      redis: options.redis,
      prefix: options.prefix,
      logger: this.logger,
      onGap: (sessionId, missing) => this.gap(sessionId, missing.to),
    });
    this.calls = new CallsChannel({
      redis: options.redis,
      prefix: options.prefix,
      nodeId: options.nodeId,
      logger: this.logger,
      serve: (sessionId, request) => this.serve(sessionId, request),
      holds: async (sessionId, nodeId) => (await this.ownerOf(sessionId)) === nodeId,
      ...(options.callTimeoutMs ? { timeoutMs: options.callTimeoutMs } : {}),
    });
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  /** Starts listening for calls and reading streams. */
  async start(): Promise<void> {
    await this.calls.start();
    this.follower.start();
  }

  /** The node that holds a session's lease (decision 3); null when none does. */
  ownerOf(sessionId: string): Promise<string | null> {
    return this.options.redis.get(streamKeys(this.options.prefix, sessionId).lease);
  }

  /**
   * Serves a session on this node: its read model is built from its owner's (over the calls
   * channel) or, without an owner that answers, from what its stream keeps; then the stream
   * feeds it. From here its tRPC ids are the stream's. Resolves once it follows the stream.
   */
  async join(service: SessionService): Promise<void> {
    const { redis, prefix, nodeId } = this.options;
    const { sessionId } = service;
    const keys = streamKeys(prefix, sessionId);
    const known = this.joined.get(sessionId);
    if (known) known.service = service;
    else
      this.joined.set(sessionId, { service, role: 'follower', publisher: null, rejoining: false });
    const made = newEpoch();
    const kept = (await redis.call('SET', keys.epoch, made, 'NX', 'GET')) as string | null;
    let epoch = kept ?? made;
    const [newest] = await redis.xrevrange(keys.stream, '+', '-', 'COUNT', 1);
    let floor = (newest && entryFields(newest[1])?.seq) ?? 0;
    let fromId = '0';
    const owner = await this.ownerOf(sessionId);
    if (owner && owner !== nodeId) {
      try {
        const page = await copyReadModel(service, (request) =>
          this.calls.call(owner, sessionId, request),
        );
        fromId = page.streamId;
        epoch = page.epoch;
        floor = Math.max(floor, page.seq);
      } catch (err) {
        this.logger.info(
          { err, sessionId, owner },
          'no read model from the owner; reading the stream',
        );
      }
    }
    service.positionAt({ epoch, seq: floor });
    this.follower.follow(service, { fromId, epoch });
  }

  /**
   * This node holds the session's lease: what its worker reports goes to the stream (a worker
   * already running reports its whole state again, so that nodes that missed the last owner's
   * events converge), and other nodes' commands run on it. Start its worker after this.
   */
  async becomeOwner(service: SessionService): Promise<void> {
    const joined = this.require(service);
    joined.role = 'owner';
    const appender = new StreamAppender({
      redis: this.options.redis,
      prefix: this.options.prefix,
      sessionId: service.sessionId,
      nodeId: this.options.nodeId,
      ...(this.options.maxLen ? { maxLen: this.options.maxLen } : {}),
    });
    joined.publisher?.stop();
    const publisher = new StreamPublisher(service, appender, this.logger);
    joined.publisher = publisher;
    service.setBackend({ publish: (report) => publisher.publish(report) });
    if (service.workerState === 'running') await service.resync();
  }

  /**
   * Another node holds the session's lease: its commands go there (stop its worker here first,
   * if it ran). Its read model keeps following the stream.
   */
  becomeRemote(service: SessionService): void {
    const joined = this.require(service);
    joined.role = 'remote';
    joined.publisher?.stop();
    joined.publisher = null;
    service.setBackend({
      forward: <T extends CommandType>(command: CommandOf<T>) => this.forward(service, command),
    });
  }

  /** Stops serving a session here: no more stream, no more calls for it. */
  leave(sessionId: string): void {
    const joined = this.joined.get(sessionId);
    if (!joined) return;
    this.joined.delete(sessionId);
    joined.publisher?.stop();
    this.follower.unfollow(sessionId);
    joined.service.setBackend({});
  }

  /** Stops reading streams and answering calls; calls waiting fail. Idempotent. */
  async close(): Promise<void> {
    for (const joined of this.joined.values()) joined.publisher?.stop();
    await this.calls.close();
    await this.follower.close();
  }

  /**
   * Events up to seq `through` are missing from a session's stream (an append failed: the
   * owner resyncs with `replace`; or this node read too late). Unless it owns it, the follower
   * holds the session (returns true) while it takes the owner's state (./gapTakeover.ts).
   */
  private gap(sessionId: string, through: number): boolean {
    const joined = this.joined.get(sessionId);
    if (!joined || joined.role === 'owner' || joined.rejoining) return false;
    joined.rejoining = true;
    const { service } = joined;
    void (async () => {
      try {
        const owner = await this.ownerOf(sessionId);
        if (!owner || owner === this.options.nodeId) throw new Error('no other node owns it');
        const call = (request: unknown) => this.calls.call(owner, sessionId, request);
        const from = await takeOwnersState(service, { call, through });
        if (this.joined.get(sessionId) !== joined) return;
        if (from) this.follower.follow(service, { fromId: from.streamId, epoch: from.epoch });
        else await this.join(service);
      } catch (err) {
        this.logger.warn({ err, sessionId }, "no owner's state after missing events; reading on");
        this.follower.release(sessionId);
      } finally {
        joined.rejoining = false;
      }
    })();
    return true;
  }

  private require(service: SessionService): Joined {
    const joined = this.joined.get(service.sessionId);
    if (!joined || joined.service !== service) {
      throw errors.conflict(`session ${service.sessionId} must join the bus first`);
    }
    return joined;
  }

  private async forward<T extends CommandType>(
    service: SessionService,
    command: CommandOf<T>,
  ): Promise<CommandResult<T>> {
    const { sessionId } = service;
    const owner = await this.ownerOf(sessionId);
    if (!owner) {
      throw errors.workerGone(
        `no node serves session ${sessionId} right now; try again in a moment`,
      );
    }
    if (owner === this.options.nodeId) {
      throw errors.workerGone(
        `session ${sessionId} is starting on this node; try again in a moment`,
      );
    }
    return resultOf(command.type, await this.calls.call(owner, sessionId, command));
  }

  /** Answers another node: a page of a session's read model, or a command if it owns it. */
  private async serve(sessionId: string, raw: unknown): Promise<unknown> {
    const joined = this.joined.get(sessionId);
    const parsed = RemoteRequest.safeParse(raw);
    if (!parsed.success) throw errors.badInput('not a request for a session');
    const request = parsed.data;
    if (!joined) throw errors.workerGone(`node ${this.options.nodeId} does not serve ${sessionId}`);
    if (request.type === 'readModel') {
      return readModelPage(joined.service, this.follower.lastIdOf(sessionId) ?? '0', request.after);
    }
    if (joined.role !== 'owner') {
      throw errors.workerGone(
        `node ${this.options.nodeId} does not own session ${sessionId} (any more); try again`,
      );
    }
    return runCommand(joined.service, request);
  }
}
