import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { RedisConnection } from './redisConnection.js';
import { RedisScript } from './redisScript.js';

const NODE_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** `<host>-<8 hex>`: readable in logs, unique across restarts. */
export const randomNodeId = (): string =>
  `${
    hostname()
      .replace(/[^A-Za-z0-9.-]/g, '-')
      .slice(0, 40) || 'node'
  }-${randomBytes(4).toString('hex')}`;

/** @throws a clear Error for a node id that cannot name a node. */
export const checkNodeId = (nodeId: string): string => {
  if (!NODE_ID_PATTERN.test(nodeId)) {
    throw new Error(
      `node id ${JSON.stringify(nodeId)} is invalid (POLLMASTERS_NODE_ID): 1 to 64 of A-Z a-z 0-9 . _ -`,
    );
  }
  return nodeId;
};

/**
 * Sets the heartbeat if it is free or this process's own, and lists the node.
 * KEYS: node key, node set. ARGV: node id, instance, ttlMs. Returns 1, or 0 if another process
 * beats under this node id.
 */
const beat = new RedisScript(
  'node heartbeat',
  `local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
return 1`,
);

/**
 * The listed nodes whose heartbeat is alive, each followed by 1 if it asks for sessions (0 if
 * not); forgets the others. KEYS: node set. ARGV: the prefixes of node keys and hungry keys.
 */
const live = new RedisScript(
  'live nodes',
  `local alive = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. id) == 1 then
    table.insert(alive, id)
    table.insert(alive, redis.call('EXISTS', ARGV[2] .. id))
  else redis.call('SREM', KEYS[1], id) end
end
return alive`,
);

/** Who is in the cluster now. */
export interface LiveNodes {
  /** Node ids with a live heartbeat, sorted. */
  nodes: string[];
  /** Those of them that ask for sessions (see planBalance). */
  hungry: Set<string>;
}

/** Deletes the heartbeat if it is this process's. KEYS: node key, node set. ARGV: id, instance. */
const leave = new RedisScript(
  'leave cluster',
  `if redis.call('GET', KEYS[1]) == ARGV[2] then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[1])
end
return 1`,
);

export interface MembershipOptions {
  conn: RedisConnection;
  nodeId: string;
  /** How long a heartbeat lives; renewed every third of it. */
  ttlMs: number;
  logger: Logger;
}

/**
 * This node's presence in the cluster: `<prefix>node:<nodeId>` with a PX ttl (its value names
 * this process, so two processes given the same node id cannot both run), and the set
 * `<prefix>nodes` so that the live nodes are listed without scanning the keyspace.
 */
export class Membership {
  readonly nodeId: string;
  private readonly instance = randomBytes(8).toString('hex');
  private timer: NodeJS.Timeout | undefined;
  private failing = false;

  constructor(private readonly options: MembershipOptions) {
    this.nodeId = checkNodeId(options.nodeId);
  }

  private get keys(): string[] {
    return [this.options.conn.key('node', this.nodeId), this.options.conn.key('nodes')];
  }

  /**
   * Beats for the first time and keeps beating. A heartbeat left by an earlier process with
   * this node id (killed) is waited out; one that stays alive longer belongs to a running node.
   * @throws when another live process uses this node id.
   */
  async join(): Promise<void> {
    const deadline = Date.now() + this.options.ttlMs + 1_000;
    while (!(await this.beat())) {
      if (Date.now() > deadline) {
        throw new Error(
          `node id ${this.nodeId} is in use by another running node (its heartbeat stays alive); ` +
            'give each node its own POLLMASTERS_NODE_ID',
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    this.timer = setInterval(() => void this.keepBeating(), Math.round(this.options.ttlMs / 3));
    this.timer.unref();
  }

  async liveNodes(): Promise<LiveNodes> {
    const { conn } = this.options;
    const flat = await live.run(
      conn.redis,
      [conn.key('nodes')],
      [conn.key('node', ''), conn.key('hungry', '')],
    );
    if (!Array.isArray(flat)) throw new Error(`live nodes: Redis answered ${JSON.stringify(flat)}`);
    const nodes: string[] = [];
    const hungry = new Set<string>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      nodes.push(String(flat[i]));
      if (Number(flat[i + 1]) === 1) hungry.add(String(flat[i]));
    }
    return { nodes: nodes.sort(), hungry };
  }

  /**
   * Asks the others for sessions (for `forMs`, renewed by each decision that still wants them)
   * or stops asking.
   */
  async setHungry(hungry: boolean, forMs: number): Promise<void> {
    const key = this.options.conn.key('hungry', this.nodeId);
    if (hungry) await this.options.conn.redis.set(key, '1', 'PX', forMs);
    else await this.options.conn.redis.del(key);
  }

  /** Stops beating and removes the heartbeat, so the others stop counting this node at once. */
  async leave(): Promise<void> {
    this.stop();
    await leave.run(this.options.conn.redis, this.keys, [this.nodeId, this.instance]);
    await this.options.conn.redis.del(this.options.conn.key('hungry', this.nodeId));
  }

  /** Stops beating; the heartbeat expires on its own. */
  stop(): void {
    clearInterval(this.timer);
  }

  private async beat(): Promise<boolean> {
    const done = await beat.run(this.options.conn.redis, this.keys, [
      this.nodeId,
      this.instance,
      this.options.ttlMs,
    ]);
    return Number(done) === 1;
  }

  private async keepBeating(): Promise<void> {
    try {
      if (!(await this.beat())) {
        this.options.logger.error(
          { nodeId: this.nodeId },
          'another process beats under this node id; give each node its own POLLMASTERS_NODE_ID',
        );
      } else if (this.failing) {
        this.options.logger.info('node heartbeat gets through again');
      }
      this.failing = false;
    } catch (err) {
      if (!this.failing)
        this.options.logger.warn({ err: (err as Error).message }, 'heartbeat failed');
      this.failing = true;
    }
  }
}
