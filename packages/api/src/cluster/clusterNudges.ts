import type { Logger } from 'pino';
import type { RedisConnection } from './redisConnection.js';

/**
 * Wake-ups between nodes over pub/sub (`<prefix>cluster:nudge`): a node that frees a lease,
 * joins or leaves says so, and the others decide again now instead of at their next scan, so a
 * handed-over session starts elsewhere within milliseconds. Only a hint: a lost message costs
 * one scan interval, never correctness.
 */
export class ClusterNudges {
  private constructor(
    private readonly conn: RedisConnection,
    private readonly subscriber: RedisConnection,
    private readonly channel: string,
  ) {}

  /** Subscribes; `onNudge` runs for every nudge of another node. */
  static async listen(
    conn: RedisConnection,
    nodeId: string,
    logger: Logger,
    onNudge: (from: string) => void,
  ): Promise<ClusterNudges> {
    const channel = conn.key('cluster', 'nudge');
    const subscriber = await conn.duplicate(`pollmasters-nudges-${nodeId}`);
    subscriber.redis.on('message', (from: string, message: string) => {
      if (from === channel && message !== nodeId) onNudge(message);
    });
    try {
      await subscriber.redis.subscribe(channel);
    } catch (err) {
      await subscriber.close();
      throw new Error(
        `subscribe to ${channel} on Redis at ${conn.where}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    logger.debug({ channel }, 'listening for cluster nudges');
    return new ClusterNudges(conn, subscriber, channel);
  }

  /** Tells the other nodes to decide again; never throws (a nudge is only a hint). */
  async send(nodeId: string): Promise<void> {
    await this.conn.redis.publish(this.channel, nodeId).catch(() => {});
  }

  async close(): Promise<void> {
    await this.subscriber.close();
  }
}
