import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { delay } from '../delay.js';
import type { SessionManager } from '../session/sessionManager.js';
import type { SessionService } from '../session/sessionService.js';
import type { LocalStopReason } from './clusterNodeOptions.js';
import { EventsBus } from './eventsBus.js';
import { type ClusterMember, joinCluster } from './joinCluster.js';
import { checkNodeId, randomNodeId } from './membership.js';
import { connectRedis } from './redisConnection.js';
import { streamKeys } from './streamKeys.js';

/** A server's part of the cluster: its lease loop and its events bus. */
export interface ClusterSessions {
  readonly nodeId: string;
  /** Hands every session over, leaves, closes the bus and the connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * How long `start` waits for a node to take the session, and `stop` and `delete` for its owner
 * to stop it (a dead owner's lease expires within 10 s).
 */
const SETTLE_WAIT_MS = 15_000;
/** What a session's stop may take in a handover at shutdown (main.ts' deadline is 4.5 s). */
const SHUTDOWN_STOP_MS = 2_000;

/** The pause before a session whose join failed joins again. */
const JOIN_RETRY_MS = 1_000;

/**
 * Makes the server one node of the cluster (docs/cluster.md, "Run a cluster"): every session
 * joins the events bus (remote until this node owns it), the lease loop starts and stops the
 * sessions this node holds, and the registry is read again on every decision (a scan, or a
 * nudge from a node that changed something).
 * @throws when Redis cannot be reached or the node id is in use; nothing is left open.
 */
export const joinServerToCluster = async (
  config: Config & { redisUrl: string },
  manager: SessionManager,
  logger: Logger,
): Promise<ClusterSessions> => {
  const nodeId = checkNodeId(config.nodeId ?? randomNodeId());
  const prefix = config.redisPrefix;
  const conn = await connectRedis({
    url: config.redisUrl,
    prefix,
    name: `pollmasters-bus-${nodeId}`,
    logger,
  });
  const bus = new EventsBus({ redis: conn.redis, prefix, nodeId, logger });
  const joins = new Map<string, Promise<void>>();
  let closing: Promise<void> | undefined;
  const join = (service: SessionService) => {
    const joined = bus.join(service).then(
      () => {
        if (service.workerState === 'stopped') bus.becomeRemote(service);
      },
      (err: unknown) => {
        // Redis answered too late: again in a moment, while the session is still this one.
        logger.warn({ err, sessionId: service.sessionId }, 'joining the events bus failed');
        setTimeout(() => {
          if (!closing && manager.get(service.sessionId)?.service === service) void join(service);
        }, JOIN_RETRY_MS).unref();
      },
    );
    joins.set(service.sessionId, joined);
    return joined;
  };
  const onCreated = (service: SessionService) => void join(service);
  const onDeleted = (id: string) => {
    joins.delete(id);
    bus.leave(id);
  };
  /** Who runs each session, for the API's descriptions (one round trip per decision). */
  const refreshOwners = async () => {
    const services = manager.list().map((s) => s.service);
    if (services.length === 0) return;
    const owners = await conn.redis.mget(
      services.map((s) => streamKeys(prefix, s.sessionId).lease),
    );
    services.forEach((s, i) => {
      s.runsOn = owners[i] ?? null;
    });
  };
  const startLocal = async (id: string, token: number) => {
    const session = manager.get(id);
    if (!session) throw new Error(`session ${id} is not known here`);
    const { service } = session;
    await (joins.get(id) ?? join(service));
    await bus.becomeOwner(service);
    service.runsOn = nodeId;
    try {
      await service.start(token);
    } catch (err) {
      await service.stop().catch(() => {});
      bus.becomeRemote(service);
      throw err;
    }
  };
  const stopLocal = async (id: string, reason: LocalStopReason) => {
    const session = manager.get(id);
    if (!session) return;
    await session.service.stop(reason === 'shutdown' ? SHUTDOWN_STOP_MS : undefined);
    if (manager.get(id) === session) bus.becomeRemote(session.service);
    if (session.service.runsOn === nodeId) session.service.runsOn = null;
  };

  let member: ClusterMember | undefined;
  manager.joinCluster({
    changed: () => member?.node.sessionsChanged(),
    settled: async (id, running) => {
      const until = Date.now() + SETTLE_WAIT_MS;
      let owner = await bus.ownerOf(id);
      while ((owner !== null) !== running && Date.now() < until) {
        await delay(50);
        owner = await bus.ownerOf(id);
      }
      const session = manager.get(id);
      if (session) session.service.runsOn = owner;
    },
  });
  try {
    await bus.start();
    await Promise.all(manager.list().map(({ service }) => join(service)));
    manager.on('created', onCreated);
    manager.on('deleted', onDeleted);
    member = await joinCluster({
      url: config.redisUrl,
      prefix,
      nodeId,
      logger,
      sessions: async () => {
        await manager.sync();
        await refreshOwners().catch(() => {});
        return manager
          .list()
          .filter((s) => s.record.shouldRun)
          .map((s) => s.record.id);
      },
      startLocal,
      stopLocal,
    });
  } catch (err) {
    manager.off('created', onCreated);
    manager.off('deleted', onDeleted);
    await bus.close().catch(() => {});
    await conn.close();
    throw err;
  }
  const joined = member;
  return {
    nodeId,
    close: () => {
      closing ??= (async () => {
        await joined.close();
        manager.off('created', onCreated);
        manager.off('deleted', onDeleted);
        await bus.close();
        await conn.close();
      })();
      return closing;
    },
  };
};
