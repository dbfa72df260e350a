// How long things last in the cluster; docs/cluster.md says why each default is what it is.

export interface LeaseTimings {
  /** How long a lease lasts without renewal (PX); default 10 s. */
  ttlMs: number;
  /** How often held leases are renewed; default ttl / 3, so one lost renewal is survived. */
  renewEveryMs: number;
  /**
   * How long before the lease can expire in Redis this node gives it up on its own when no
   * renewal got through; default ttl / 5. It covers stopping the session and clock drift.
   */
  marginMs: number;
}

/** The defaults of docs/cluster.md, scaled to `ttlMs`. */
export const leaseTimings = (ttlMs = 10_000, overrides: Partial<LeaseTimings> = {}) => {
  const timings: LeaseTimings = {
    ttlMs,
    renewEveryMs: Math.round(ttlMs / 3),
    marginMs: Math.round(ttlMs / 5),
    ...overrides,
  };
  if (timings.renewEveryMs <= 0 || timings.marginMs <= 0) {
    throw new Error('lease timings: renewEveryMs and marginMs must be positive');
  }
  if (timings.renewEveryMs >= timings.ttlMs - timings.marginMs) {
    throw new Error(
      `lease timings: renewing every ${timings.renewEveryMs} ms cannot keep a lease of ` +
        `${timings.ttlMs} ms given up ${timings.marginMs} ms early`,
    );
  }
  return timings;
};

export interface ClusterTimings extends LeaseTimings {
  /** How long a node's heartbeat lives; default ttl / 2, so a dead node stops being counted
   * before its leases expire and the survivors' shares already include its sessions. */
  heartbeatTtlMs: number;
  /** How often the node decides what to claim and release; default 1.5 s (jittered ±20 %). */
  scanEveryMs: number;
  /** How long a session that failed to start here is left to the other nodes; default 30 s. */
  coolDownMs: number;
}

/** The defaults, scaled to the lease ttl given (10 s if none), with `overrides` on top. */
export const clusterTimings = (overrides: Partial<ClusterTimings> = {}): ClusterTimings => {
  const ttlMs = overrides.ttlMs ?? 10_000;
  const timings = {
    heartbeatTtlMs: Math.round(ttlMs / 2),
    scanEveryMs: 1_500,
    coolDownMs: 30_000,
    ...overrides,
    ...leaseTimings(ttlMs, overrides),
  };
  if (!(timings.heartbeatTtlMs > 0 && timings.scanEveryMs > 0 && timings.coolDownMs >= 0)) {
    throw new Error('cluster timings: heartbeatTtlMs and scanEveryMs must be positive');
  }
  return timings;
};
