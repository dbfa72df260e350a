import { ClusterNode } from './clusterNode.js';
import type { ClusterNodeOptions } from './clusterNodeOptions.js';
import { connectRedis } from './redisConnection.js';

export interface JoinClusterOptions extends Omit<ClusterNodeOptions, 'conn'> {
  /** POLLMASTERS_REDIS_URL. */
  url: string;
  /** Default `pollmasters:`. */
  prefix?: string;
}

/** A node in the cluster with the Redis connection it owns. */
export interface ClusterMember {
  node: ClusterNode;
  /** Hands every session over, leaves, and closes the connection (what SIGTERM runs). */
  close(): Promise<void>;
}

/**
 * Connects to Redis and starts a ClusterNode on its own connection: the one call the server
 * makes in cluster mode. Lease commands time out after 2 s, so a frozen Redis never holds a
 * decision or a shutdown for long (the leases themselves are timed locally, not by replies).
 * @throws when Redis cannot be reached or the node id is in use; nothing is left open.
 */
export const joinCluster = async (options: JoinClusterOptions): Promise<ClusterMember> => {
  const { url, prefix, ...nodeOptions } = options;
  const conn = await connectRedis({
    url,
    ...(prefix === undefined ? {} : { prefix }),
    name: `pollmasters-leases${options.nodeId ? `-${options.nodeId}` : ''}`,
    logger: options.logger,
    commandTimeoutMs: 2_000,
  });
  let node: ClusterNode;
  try {
    node = await ClusterNode.start({ ...nodeOptions, conn });
  } catch (err) {
    await conn.close();
    throw err;
  }
  return {
    node,
    close: async () => {
      await node.close();
      await conn.close();
    },
  };
};
