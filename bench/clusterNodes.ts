import type { BurstResult, PreparedVotes } from '@pollmasters/worker/sandbox/remote';
import type { FromNode, NodeSettings, ToNode } from './clusterProtocol.js';
import { encryptBurst } from './encryptBurst.js';
import { OPTIONS } from './protocol.js';
import { ServerProcess } from './serverProcess.js';

/*
 * The nodes of one configuration of the cluster bench, and what the bench does through them:
 * sessions made and placed, polls sent and votes injected by each session's owner (where its
 * sandbox network lives).
 */

export type Node = ServerProcess<ToNode, FromNode>;
/** Session id -> its owner node, or its polls' ids. */
export type Owners = Map<string, Node>;
export type PollsOf = Map<string, string[]>;

export const startNodes = (settings: NodeSettings[], dirs: string[], channel: string) =>
  Promise.all(
    settings.map((s, i) =>
      ServerProcess.start<ToNode, FromNode>(dirs[i]!, channel, {
        script: 'clusterServer',
        args: [JSON.stringify(s)],
      }),
    ),
  );

/**
 * Makes the sessions (through the first node), waits until each is ready on every node, and
 * finds the one node that runs each; the sessions each node runs.
 */
export const placeSessions = async (
  nodes: Node[],
  sessionIds: string[],
): Promise<{ owners: Owners; runs: string[][] }> => {
  await nodes[0]!.request({ type: 'sessions', ids: sessionIds }, 'done');
  await Promise.all(
    nodes.map((n) =>
      n.request({ type: 'awaitReady', ids: sessionIds, timeoutMs: 60_000 }, 'done', 70_000),
    ),
  );
  const runs = (
    await Promise.all(nodes.map((n) => n.request({ type: 'owned', ids: sessionIds }, 'owned')))
  ).map((o) => o.ids);
  const owners: Owners = new Map();
  for (const sessionId of sessionIds) {
    const holders = nodes.filter((_, i) => runs[i]!.includes(sessionId));
    if (holders.length !== 1) throw new Error(`${sessionId} runs on ${holders.length} nodes`);
    owners.set(sessionId, holders[0]!);
  }
  return { owners, runs };
};

/** `count` polls in every session, sent through its owner. */
export const sendPolls = async (owners: Owners, count: number, prefix: string) => {
  const polls: PollsOf = new Map();
  for (const [sessionId, owner] of owners) {
    const sent = await owner.request(
      { type: 'createPolls', sessionId, count, prefix, options: OPTIONS },
      'polls',
    );
    polls.set(
      sessionId,
      sent.polls.map((p) => p.id),
    );
  }
  return polls;
};

/**
 * Every session's votes, encrypted here before the first injection (bench/encryptBurst.ts),
 * with what each session's owner tells of its polls.
 */
export const prepare = (owners: Owners, polls: PollsOf, seed: number) =>
  Promise.all(
    [...polls].map(async ([sessionId, pollIds], i) => {
      const keys = owners
        .get(sessionId)!
        .request({ type: 'burstKeys', sessionId, pollIds }, 'burstKeys');
      return [sessionId, await encryptBurst(keys, seed + i)] as const;
    }),
  );

/**
 * Every session's votes injected at once by its owner's sandbox, each at `ratePerSec` or
 * unthrottled; resolves with each burst's ledger once all are handed to the nodes' workers.
 */
export const inject = (
  owners: Owners,
  prepared: (readonly [string, PreparedVotes[]])[],
  ratePerSec?: number,
): Promise<BurstResult[]> =>
  Promise.all(
    prepared.map(([sessionId, votes]) =>
      owners
        .get(sessionId)!
        .request(
          {
            type: 'burst',
            sessionId,
            votes,
            batchSize: 500,
            ...(ratePerSec ? { ratePerSec } : {}),
          },
          'burst',
        )
        .then((m) => m.result),
    ),
  );
