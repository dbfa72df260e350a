import { errors } from '@pollmasters/shared';
import type { Redis } from 'ioredis';
import { newEpoch, type SessionReport } from '../session/sessionReport.js';
import { encodeReport } from './streamCodec.js';
import { streamKeys } from './streamKeys.js';

/**
 * Appends an event with the session's next seq, atomically: the epoch is made if missing (and
 * the seq starts over with it), and with a node id given the append is refused unless that
 * node holds the session's lease, so that a node that lost it cannot add to the stream.
 * KEYS: stream, seq, epoch, lease. ARGV: maxlen, event, candidate epoch, node id or ''.
 */
const APPEND = `
if ARGV[4] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[4] then
  return redis.error_reply('FENCED the node does not hold the lease')
end
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  epoch = ARGV[3]
  redis.call('SET', KEYS[3], epoch)
  redis.call('SET', KEYS[2], 0)
end
local seq = redis.call('INCR', KEYS[2])
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'q', seq, 'e', epoch, 'd', ARGV[2])
return {id, seq, epoch}
`;

type AppendingRedis = Redis & {
  pmStreamAppend(...args: (string | number)[]): Promise<[string, number, string]>;
};

/** Where an appended event went. */
export interface Appended {
  /** The stream entry's id. */
  id: string;
  seq: number;
  epoch: string;
}

export interface StreamAppenderOptions {
  redis: Redis;
  prefix: string;
  sessionId: string;
  /** Appends only while this node holds the session's lease (decision 3); unchecked if unset. */
  nodeId?: string | undefined;
  /** Events the stream keeps, about (`MAXLEN ~`): what a node resuming from it can catch up on. */
  maxLen?: number;
}

/**
 * The owner's end of a session's event stream (docs/cluster.md). Appends go out in the order
 * they are made (one connection: Redis runs them in order), without waiting for each other.
 */
export class StreamAppender {
  private readonly redis: AppendingRedis;
  private readonly keys: ReturnType<typeof streamKeys>;

  constructor(private readonly options: StreamAppenderOptions) {
    const redis = options.redis as AppendingRedis;
    if (typeof redis.pmStreamAppend !== 'function') {
      redis.defineCommand('pmStreamAppend', { numberOfKeys: 4, lua: APPEND });
    }
    this.redis = redis;
    this.keys = streamKeys(options.prefix, options.sessionId);
  }

  /** @throws CONFLICT when the node does not hold the lease (nothing was appended) */
  async append(report: SessionReport): Promise<Appended> {
    const { stream, seq, epoch, lease } = this.keys;
    try {
      const [id, n, e] = await this.redis.pmStreamAppend(
        stream,
        seq,
        epoch,
        lease,
        this.options.maxLen ?? 10_000,
        encodeReport(report),
        newEpoch(),
        this.options.nodeId ?? '',
      );
      return { id, seq: Number(n), epoch: e };
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('FENCED')) {
        throw errors.conflict(
          `node ${this.options.nodeId} does not hold the lease of session ${this.options.sessionId}`,
        );
      }
      throw err;
    }
  }
}
