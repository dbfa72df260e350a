import { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import { pino } from 'pino';
import { testRedisUrl } from '../../../test/helpers/services.js';
import type { ClusterTimings } from '../src/cluster/clusterTimings.js';
import { type ClusterMember, joinCluster } from '../src/cluster/joinCluster.js';

export const silent = pino({ level: 'silent' });

/**
 * Where each session runs, as the nodes' startLocal/stopLocal report it, checking on every start
 * what the cluster promises: a session never runs on two nodes at once, and each start carries a
 * fencing token larger than every one before it.
 */
export class Ledger extends EventEmitter<{ change: [] }> {
  readonly running = new Map<string, { node: string; token: number }>();
  readonly lastToken = new Map<string, number>();
  readonly violations: string[] = [];
  starts = 0;

  start(node: string, sessionId: string, token: number): void {
    const now = this.running.get(sessionId);
    if (now) this.violations.push(`${sessionId} started on ${node} while on ${now.node}`);
    const last = this.lastToken.get(sessionId) ?? 0;
    if (token <= last) this.violations.push(`${sessionId}: token ${token} after ${last}`);
    this.lastToken.set(sessionId, token);
    this.running.set(sessionId, { node, token });
    this.starts++;
    this.emit('change');
  }

  stop(node: string, sessionId: string): void {
    if (this.running.get(sessionId)?.node === node) this.running.delete(sessionId);
    this.emit('change');
  }

  /** How many sessions each node runs, in the order given. */
  counts(nodes: readonly string[]): number[] {
    const all = [...this.running.values()];
    return nodes.map((n) => all.filter((r) => r.node === n).length);
  }

  sessionsOn(node: string): string[] {
    return [...this.running].filter(([, r]) => r.node === node).map(([id]) => id);
  }
}

/** A ClusterNode on the test Redis whose sessions run in `ledger`. */
export const startTestNode = async (options: {
  prefix: string;
  nodeId: string;
  ledger: Ledger;
  sessions: () => readonly string[];
  timings?: Partial<ClusterTimings>;
  /** Sessions whose start fails on this node. */
  failing?: ReadonlySet<string>;
}): Promise<ClusterMember> => {
  const { ledger, nodeId } = options;
  return joinCluster({
    url: testRedisUrl,
    prefix: options.prefix,
    nodeId,
    logger: silent,
    sessions: options.sessions,
    timings: options.timings,
    startLocal: async (sessionId, token) => {
      if (options.failing?.has(sessionId)) throw new Error('cannot start here');
      ledger.start(nodeId, sessionId, token);
    },
    stopLocal: async (sessionId) => ledger.stop(nodeId, sessionId),
  });
};

/** Fast timings for tests that are not about the production bound. */
export const quick: Partial<ClusterTimings> = {
  ttlMs: 3_000,
  heartbeatTtlMs: 1_500,
  scanEveryMs: 150,
};

/** A loopback port that nothing listens on (now). */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
