import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import {
  DEFAULT_SESSION,
  errors,
  SessionId,
  type SessionRecord,
  type SessionSettings,
} from '@pollmasters/shared';
import { dataLayout, forgetLogin } from '@pollmasters/worker';
import type { Config } from '../config.js';
import { ScopedKeys } from './scopedKeys.js';
import type {
  ClusterHooks,
  ManagedSession,
  SessionManagerEvents,
  SessionManagerOptions,
} from './sessionManagerOptions.js';
import { sessionOpenFor } from './sessionOpen.js';
import { SessionService } from './sessionService.js';
import type { WorkerPool } from './workerPool.js';

export type {
  ClusterHooks,
  ManagedSession,
  SessionManagerEvents,
  SessionManagerOptions,
} from './sessionManagerOptions.js';

/**
 * Every session of the server: created, started, stopped and deleted here, persisted in the
 * registry, each hosted on the least loaded worker of the pool. Changes to one session happen
 * one at a time; a refused change (bad id, unknown, duplicate, over the limit) changes nothing.
 */
export class SessionManager extends EventEmitter<SessionManagerEvents> {
  private readonly sessions = new Map<string, ManagedSession>();
  private readonly queues = new Map<string, Promise<unknown>>();
  /** The sessions' own API keys, by hash (../auth.ts looks callers up here). */
  readonly scopedKeys = new ScopedKeys();
  private cluster: ClusterHooks | null = null;

  constructor(private readonly options: SessionManagerOptions) {
    super();
    for (const record of options.registry.list()) this.add(record);
  }

  get pool(): WorkerPool {
    return this.options.pool;
  }

  get config(): Config {
    return this.options.config;
  }

  /** The session the compat API serves; it always exists. */
  get defaultSession(): SessionService {
    return this.require(DEFAULT_SESSION).service;
  }

  list(): ManagedSession[] {
    return [...this.sessions.values()];
  }

  get(id: string): ManagedSession | undefined {
    return this.sessions.get(id);
  }

  /** @throws BAD_INPUT for an id that cannot be a session's, NOT_FOUND for an unknown one. */
  require(id: string): ManagedSession {
    const session = this.sessions.get(parseId(id));
    if (!session) throw errors.notFound(`session ${id}`);
    return session;
  }

  /**
   * Makes this manager a cluster node's: from here sessions are started and stopped by the
   * lease loop, not by `startAll`, `start` and `stop`, which only say what should run.
   */
  joinCluster(hooks: ClusterHooks): void {
    this.cluster = hooks;
  }

  /**
   * Reads the registry again (in a cluster, where other nodes change it): sessions created
   * elsewhere are added here, deleted ones removed, and new keys followed.
   */
  async sync(): Promise<void> {
    const { registry } = this.options;
    if (!registry.reload || !(await registry.reload())) return;
    const records = registry.list();
    for (const record of records) {
      const known = this.sessions.get(record.id);
      if (!known) this.emit('created', this.add(record).service);
      else if (JSON.stringify(known.record) !== JSON.stringify(record)) {
        known.record = record;
        this.scopedKeys.track(record);
      }
    }
    const ids = new Set(records.map((r) => r.id));
    for (const id of [...this.sessions.keys()]) if (!ids.has(id)) this.drop(id);
  }

  /** Starts every session the registry says should run; the default one must start. */
  async startAll(): Promise<void> {
    if (this.cluster) return;
    const starting = this.list()
      .filter((s) => s.record.shouldRun)
      .map(async (s) => {
        try {
          await s.service.start();
        } catch (err) {
          if (s.record.id === DEFAULT_SESSION) throw err;
          this.options.logger.error({ err, sessionId: s.record.id }, 'session failed to start');
        }
      });
    await Promise.all(starting);
  }

  /** `keyHash`: the hash of the session's own API key (./scopedKeys.ts), if it gets one. */
  async create(input: {
    id: string;
    settings?: SessionSettings;
    keyHash?: string;
  }): Promise<ManagedSession> {
    const id = parseId(input.id);
    return this.exclusive(id, async () => {
      if (this.sessions.has(id)) throw errors.conflict(`session ${id} exists already`);
      const { maxSessions } = this.options.config;
      if (this.sessions.size >= maxSessions) {
        throw errors.quota(
          `this server has its maximum of ${maxSessions} sessions (POLLMASTERS_MAX_SESSIONS)`,
        );
      }
      const record: SessionRecord = {
        id,
        createdAt: Date.now(),
        settings: input.settings ?? {},
        shouldRun: false,
        ...(input.keyHash ? { keyHash: input.keyHash } : {}),
      };
      // In a cluster another node may have made it (not known here yet).
      if (!(await this.options.registry.add(record))) {
        throw errors.conflict(`session ${id} exists already`);
      }
      // ... or a re-read of the registry added it here meanwhile.
      const known = this.sessions.get(id);
      const session = known ?? this.add(record);
      this.options.logger.info({ sessionId: id }, 'session created');
      if (!known) this.emit('created', session.service);
      this.cluster?.changed();
      return session;
    });
  }

  /** Gives a session a new own key by its hash; its old key, if any, is refused from now on. */
  setKeyHash(id: string, keyHash: string): Promise<ManagedSession> {
    const session = this.require(id);
    return this.exclusive(id, async () => {
      const record = { ...session.record, keyHash };
      await this.options.registry.put(record);
      session.record = record;
      this.scopedKeys.track(record);
      this.cluster?.changed();
      this.options.logger.info({ sessionId: id }, 'session key rotated');
      return session;
    });
  }

  /** Starts a session (idempotent) and keeps it running across server restarts. */
  start(id: string): Promise<ManagedSession> {
    const session = this.require(id);
    return this.exclusive(id, async () => {
      await this.setShouldRun(session, true);
      if (this.cluster) {
        this.cluster.changed();
        await this.cluster.settled(id, true);
      } else if (session.service.workerState === 'stopped') await session.service.start();
      return session;
    });
  }

  /** Stops a session (idempotent): its worker closes it; it stays stopped across restarts. */
  stop(id: string): Promise<ManagedSession> {
    const session = this.require(id);
    return this.exclusive(id, async () => {
      await this.setShouldRun(session, false);
      await this.stopSession(session);
      return session;
    });
  }

  /**
   * Deletes a session: it stops, its login is removed, and with `purge` its data (polls, votes,
   * its folder) too; nothing of another session is touched. `default` cannot be deleted: the
   * compat API serves it.
   */
  delete(id: string, { purge = false } = {}): Promise<void> {
    const session = this.require(id);
    if (id === DEFAULT_SESSION) {
      throw errors.conflict('the session default cannot be deleted; log it out instead');
    }
    return this.exclusive(id, async () => {
      // In a cluster its owner, wherever it is, stops it before its data goes.
      if (this.cluster) await this.setShouldRun(session, false);
      await this.stopSession(session);
      const dir = dataLayout.sessionDir(this.options.dataDir, id);
      const { registry } = this.options;
      if (registry.forgetData) await registry.forgetData(id, { purge });
      if (purge) rmSync(dir, { recursive: true, force: true });
      else if (!registry.forgetData) forgetLogin(dir);
      await this.options.registry.remove(id);
      this.drop(id);
      this.cluster?.changed();
      this.options.logger.info({ sessionId: id, purge }, 'session deleted');
    });
  }

  /**
   * Stops every session (each stores what it holds and closes its database), then the
   * workers: all within `timeoutMs`, of which the workers' exit gets the last part.
   */
  async close(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const poolShareMs = Math.min(1_000, timeoutMs / 4);
    const sessionsMs = Math.max(1, timeoutMs - poolShareMs);
    await Promise.all(this.list().map((s) => s.service.stop(sessionsMs)));
    await this.options.pool.stop(Math.max(1, deadline - Date.now()));
    await this.options.registry.close();
  }

  /** Stops it here, or in a cluster has its owner stop it. */
  private async stopSession(session: ManagedSession): Promise<void> {
    if (!this.cluster) return session.service.stop();
    this.cluster.changed();
    await this.cluster.settled(session.record.id, false);
  }

  /** Forgets a deleted session (here, or by another node of the cluster). */
  private drop(id: string): void {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    this.scopedKeys.forget(id);
    void session.service.stop();
    this.emit('deleted', id);
  }

  private add(record: SessionRecord): ManagedSession {
    const { config, dataDir, pool, logger } = this.options;
    const managed: ManagedSession = {
      record,
      service: new SessionService({
        sessionId: record.id,
        open: sessionOpenFor(config, dataDir, record),
        placeOn: () => pool.leastLoaded(),
        logger: logger.child({ component: 'session', sessionId: record.id }),
      }),
    };
    this.sessions.set(record.id, managed);
    this.scopedKeys.track(record);
    return managed;
  }

  private async setShouldRun(session: ManagedSession, shouldRun: boolean): Promise<void> {
    // In a cluster another node may have changed it since this one read it.
    if (!this.cluster && session.record.shouldRun === shouldRun) return;
    const record = { ...session.record, shouldRun };
    await this.options.registry.put(record);
    session.record = record;
  }

  /** Runs one change of a session after the ones before it. */
  private exclusive<T>(id: string, change: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(id) ?? Promise.resolve()).then(change, change);
    const settled = run.catch(() => {});
    this.queues.set(id, settled);
    void settled.then(() => {
      if (this.queues.get(id) === settled) this.queues.delete(id);
    });
    return run;
  }
}

/** A session id as the shared schema takes it; BAD_INPUT for one that cannot be a session's. */
const parseId = (id: string): string => {
  const parsed = SessionId.safeParse(id);
  if (!parsed.success) throw errors.badInput(`session id: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
};
