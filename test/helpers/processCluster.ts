import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPollMastersClient, type PollMastersClient } from '@pollmasters/client';
import type { HealthReport, Poll } from '@pollmasters/shared';
import { Redis } from 'ioredis';
import { type ChildServer, spawnServer } from './childServer.js';
import { fetchLedger, type LedgerAnswer } from './ledger.js';
import { normalizeExpected, votersByName } from './sandbox.js';
import {
  type FreshDatabase,
  type FreshRedisPrefix,
  freshDatabase,
  freshRedisPrefix,
  testRedisUrl,
} from './services.js';
import { eventually } from './wait.js';

/**
 * Server processes that are one cluster (issue #22): a fresh database, a fresh Redis prefix and
 * one shared data dir, each node run with `--sandbox --sessions <n>` as `pnpm start` runs it.
 */
export class ProcessCluster {
  readonly nodes = new Map<string, ChildServer>();
  readonly dataDir = mkdtempSync(join(tmpdir(), 'pollmasters-cluster-'));
  private readonly space: FreshRedisPrefix;
  private readonly clients: PollMastersClient[] = [];
  private readonly readers = new Map<string, PollMastersClient>();

  private constructor(
    /** The sandbox sessions every node makes sure of (`default`, `s2` ...). */
    readonly sessions: readonly string[],
    readonly db: FreshDatabase,
    readonly redis: Redis,
    label: string,
    /** The server's key every node is given (the clients and requests here send it). */
    readonly apiKey: string,
  ) {
    this.space = freshRedisPrefix(label);
  }

  static async create(label: string, sessionCount: number): Promise<ProcessCluster> {
    const ids = Array.from({ length: sessionCount }, (_, i) => (i === 0 ? 'default' : `s${i + 1}`));
    const apiKey = randomBytes(24).toString('hex');
    return new ProcessCluster(
      ids,
      await freshDatabase(label),
      new Redis(testRedisUrl),
      label,
      apiKey,
    );
  }

  get prefix(): string {
    return this.space.prefix;
  }

  /** Env of a node called `nodeId`, as an operator sets it. */
  env(nodeId: string): Record<string, string> {
    return {
      POLLMASTERS_DATABASE_URL: this.db.url,
      POLLMASTERS_REDIS_URL: testRedisUrl,
      POLLMASTERS_REDIS_PREFIX: this.space.prefix,
      POLLMASTERS_NODE_ID: nodeId,
      POLLMASTERS_API_KEY: this.apiKey,
      LOG_LEVEL: 'info',
    };
  }

  async start(nodeId: string): Promise<ChildServer> {
    const args = ['--sandbox', '--sessions', String(this.sessions.length)];
    const node = await spawnServer(
      [...args, '--data-dir', this.dataDir, '--workers', '1'],
      this.env(nodeId),
      { timeoutMs: 30_000 },
    );
    this.nodes.set(nodeId, node);
    return node;
  }

  url(nodeId: string): string {
    const node = this.nodes.get(nodeId);
    if (!node) throw new Error(`no node ${nodeId}`);
    return node.url;
  }

  /** A new tRPC client of the node (closed with the cluster), with the server's key. */
  connect(nodeId: string): PollMastersClient {
    const client = createPollMastersClient({ url: this.url(nodeId), apiKey: this.apiKey });
    this.clients.push(client);
    return client;
  }

  /** The node's one client for reads and commands. */
  reader(nodeId: string): PollMastersClient {
    let client = this.readers.get(nodeId);
    if (!client) {
      client = this.connect(nodeId);
      this.readers.set(nodeId, client);
    }
    return client;
  }

  /** An HTTP request to the node, with the server's key. */
  fetch(nodeId: string, path: string): Promise<Response> {
    return fetch(`${this.url(nodeId)}${path}`, { headers: { 'x-api-key': this.apiKey } });
  }

  async health(nodeId: string): Promise<HealthReport> {
    return (await (await this.fetch(nodeId, '/healthz')).json()) as HealthReport;
  }

  /** Who runs each session, as Redis' leases say. */
  async owners(ids: readonly string[] = this.sessions): Promise<Record<string, string | null>> {
    const held = await this.redis.mget(ids.map((id) => `${this.space.prefix}lease:${id}`));
    return Object.fromEntries(ids.map((id, i) => [id, held[i] ?? null]));
  }

  /**
   * Waits until every session is ready, run by one of `nodeIds`, and so described by each of
   * them (`/healthz`: ok, `node` its owner); resolves with the owners.
   */
  allRunning(nodeIds: readonly string[], timeoutMs: number) {
    return eventually(
      `every session running on ${nodeIds.join(', ')}`,
      async () => {
        const held = await this.owners();
        for (const nodeId of nodeIds) {
          const report = await this.health(nodeId);
          const listed = report.sessions.filter((s) => this.sessions.includes(s.id));
          if (report.status !== 'ok' || listed.length !== this.sessions.length) return false;
          for (const s of listed) {
            const owner = held[s.id];
            if (!owner || !nodeIds.includes(owner) || s.node !== owner) return false;
            if (s.whatsapp !== 'ready' || !s.ready || s.workerState !== 'running') return false;
          }
        }
        return held;
      },
      timeoutMs,
      100,
    );
  }

  /** The session's sandbox ledger, from the node that runs its world. */
  async ledgerOf(sessionId: string): Promise<LedgerAnswer> {
    const owner = (await this.owners([sessionId]))[sessionId];
    if (!owner) throw new Error(`nobody runs ${sessionId}`);
    return fetchLedger(this.url(owner), sessionId, { headers: { 'x-api-key': this.apiKey } });
  }

  /**
   * Waits until every poll of every session's ledger is counted exactly so on each of
   * `nodeIds`; resolves with the polls (as the last node counted them).
   */
  countedAsLedgers(nodeIds: readonly string[], timeoutMs = 45_000) {
    return eventually(
      'every poll counted as its ledger says, on every node',
      async () => {
        const counted = new Map<string, Poll>();
        for (const sessionId of this.sessions) {
          const ledger = await this.ledgerOf(sessionId);
          for (const [pollId, expected] of Object.entries(ledger.polls)) {
            if (ledger.pending[pollId] !== 0) throw new Error(`${pollId} pending`);
            for (const nodeId of nodeIds) {
              const poll = await this.reader(nodeId).polls.get.query({ sessionId, id: pollId });
              const got = JSON.stringify(votersByName(poll));
              const want = JSON.stringify(normalizeExpected(poll, expected));
              if (got !== want) {
                throw new Error(`${nodeId} ${pollId}: counted ${got}, ledger ${want}`);
              }
              counted.set(pollId, poll);
            }
          }
        }
        return counted;
      },
      timeoutMs,
      250,
    );
  }

  /** Ends it all: clients, processes (SIGKILL), keys, database, data dir. */
  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close().catch(() => {})));
    for (const node of this.nodes.values())
      if (node.proc.exitCode === null) node.proc.kill('SIGKILL');
    await Promise.all([...this.nodes.values()].map((n) => n.exited));
    this.redis.disconnect();
    await this.space.clear();
    await this.db.drop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
