/**
 * The Redis keys and channels of the cluster's events and commands (docs/cluster.md), all under
 * the cluster's prefix (default `pollmasters:`). `lease` is the lease's key (decision 3, the
 * ownership part): the stream's appends and the commands' routing read who holds it.
 */
export const streamKeys = (prefix: string, sessionId: string) => ({
  /** The session's events, a Redis Stream: fields `q` (seq), `e` (epoch), `d` (the event). */
  stream: `${prefix}events:${sessionId}`,
  /** The last seq given to one of its events. */
  seq: `${prefix}events-seq:${sessionId}`,
  /** The epoch of its event ids; a new one when the keys were lost. */
  epoch: `${prefix}events-epoch:${sessionId}`,
  /** `<nodeId>` of the node that holds its lease. */
  lease: `${prefix}lease:${sessionId}`,
});

/** The pub/sub channel a node takes its commands (requests) and its replies on. */
export const callsChannelOf = (prefix: string, nodeId: string): string =>
  `${prefix}calls:${nodeId}`;
