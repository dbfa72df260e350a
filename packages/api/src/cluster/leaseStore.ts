import type { RedisConnection } from './redisConnection.js';
import { RedisScript } from './redisScript.js';

/**
 * Takes the lease when it is free (or is this node's own, left from before a restart or a lost
 * renewal) and, in the same atomic step, the next fencing token of the session: no other node
 * can ever get a token between this node's acquisition and its token.
 * The token is the counter plus one, but at least Redis' clock in ms: a Redis that restarted
 * empty (no persistence) still hands out tokens above those the store has seen, where a bare
 * INCR would start again at 1 and every session would be refused by its own fence. (A token
 * runs ahead of the clock only by the acquisitions of one session within the same ms, far less
 * than a restart takes.)
 * KEYS: lease, fence. ARGV: nodeId, ttlMs. Returns the token, or 0 when another node holds it.
 */
const acquire = new RedisScript(
  'acquire lease',
  `local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local now = redis.call('TIME')
local floor = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local token = math.max(tonumber(redis.call('GET', KEYS[2]) or '0') + 1, floor)
redis.call('SET', KEYS[2], string.format('%.0f', token))
return token`,
);

/**
 * Extends each lease that this node still holds (compare-and-pexpire), in one round trip.
 * KEYS: leases. ARGV: nodeId, ttlMs. Returns 1 or 0 per key.
 */
const renew = new RedisScript(
  'renew leases',
  `local kept = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    kept[i] = 1
  else
    kept[i] = 0
  end
end
return kept`,
);

/** Deletes the lease only if this node holds it (compare-and-delete). KEYS: lease. ARGV: nodeId. */
const release = new RedisScript(
  'release lease',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
);

/**
 * The leases of sessions in Redis: `<prefix>lease:<sessionId>` holds the owner's node id with a
 * PX ttl; `<prefix>fence:<sessionId>` the session's last fencing token (each one larger than
 * every token handed out before it). Stateless: LeaseKeeper keeps time.
 */
export class LeaseStore {
  constructor(
    private readonly conn: RedisConnection,
    private readonly nodeId: string,
    private readonly ttlMs: number,
  ) {}

  leaseKey(sessionId: string): string {
    return this.conn.key('lease', sessionId);
  }

  fenceKey(sessionId: string): string {
    return this.conn.key('fence', sessionId);
  }

  /** The new fencing token (a positive integer), or null when another node holds the lease. */
  async acquire(sessionId: string): Promise<number | null> {
    const token = Number(
      await acquire.run(
        this.conn.redis,
        [this.leaseKey(sessionId), this.fenceKey(sessionId)],
        [this.nodeId, this.ttlMs],
      ),
    );
    if (!Number.isSafeInteger(token) || token < 0) {
      throw new Error(`acquire lease of ${sessionId}: Redis answered ${token}, not a token`);
    }
    return token === 0 ? null : token;
  }

  /** Per session: true if this node still held the lease and it now runs for a full ttl again. */
  async renew(sessionIds: string[]): Promise<boolean[]> {
    if (sessionIds.length === 0) return [];
    const kept = await renew.run(
      this.conn.redis,
      sessionIds.map((id) => this.leaseKey(id)),
      [this.nodeId, this.ttlMs],
    );
    if (!Array.isArray(kept) || kept.length !== sessionIds.length) {
      throw new Error(`renew leases: Redis answered ${JSON.stringify(kept)}`);
    }
    return kept.map((k) => Number(k) === 1);
  }

  /** Gives the lease up if this node holds it; false if it did not (expired or taken). */
  async release(sessionId: string): Promise<boolean> {
    return (
      Number(await release.run(this.conn.redis, [this.leaseKey(sessionId)], [this.nodeId])) === 1
    );
  }

  /** Ms until the first of these sessions' leases expires (Infinity: none), in one round trip. */
  async firstExpiryIn(sessionIds: string[]): Promise<number> {
    if (sessionIds.length === 0) return Number.POSITIVE_INFINITY;
    const pipeline = this.conn.redis.pipeline();
    for (const id of sessionIds) pipeline.pttl(this.leaseKey(id));
    const expiries = ((await pipeline.exec()) ?? []).map(([err, ms]) => {
      if (err) throw err;
      return Number(ms);
    });
    // PTTL is -2 for a key that is gone (expired already) and -1 for one without expiry.
    return Math.min(...expiries.map((ms) => (ms === -2 ? 0 : ms < 0 ? Infinity : ms)));
  }

  /** Who holds each session's lease now (null: nobody), in one round trip. */
  async owners(sessionIds: string[]): Promise<Map<string, string | null>> {
    if (sessionIds.length === 0) return new Map();
    const holders = await this.conn.redis.mget(...sessionIds.map((id) => this.leaseKey(id)));
    return new Map(sessionIds.map((id, i) => [id, holders[i] ?? null]));
  }
}
