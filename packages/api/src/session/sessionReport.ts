import { randomBytes } from 'node:crypto';
import { Poll, SessionState } from '@pollmasters/shared';
import {
  type CommandOf,
  type CommandResult,
  type CommandType,
  WorkerEvent,
} from '@pollmasters/shared/node';
import { z } from 'zod';

/**
 * One poll of a resync (the session's whole state, as its worker's snapshot gives it), with the
 * session's state. A resync is a run of these, `first` to `last`: a poll the session held and
 * the run does not name is gone when it ends. One poll each, so that every report makes at most
 * one tRPC event (its id is the report's place in the cluster's stream, ../cluster).
 */
export const ResyncReport = SessionState.extend({
  type: z.literal('resync'),
  /** Null for a session without polls (the run is this one report). */
  poll: Poll.nullable(),
  first: z.boolean(),
  last: z.boolean(),
  /**
   * The poll replaces what a node holds at its version too: a resync after events were lost
   * (a node may have applied a change after the hole, and holds its version without the
   * changes before it).
   */
  replace: z.boolean().optional(),
});
export type ResyncReport = z.infer<typeof ResyncReport>;

/** What a session reports: its worker's events, and its resyncs. */
export const SessionReport = z.union([WorkerEvent, ResyncReport]);
export type SessionReport = WorkerEvent | ResyncReport;

/**
 * Where an event is in its session's stream of the cluster (../cluster/streamFollower.ts): the
 * same on every node. `epoch` names the stream's life (a new one when its keys were lost).
 */
export interface EventPosition {
  epoch: string;
  seq: number;
}

/** A new epoch: the time and some randomness, in [a-z0-9]. */
export const newEpoch = (): string => `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/** Whether a text can be an epoch (it stands before `-<seq>` in an event id). */
export const isEpoch = (epoch: string): boolean => /^[a-z0-9]+$/.test(epoch);

/**
 * Where a session's reports go and where its commands run, on a node of a cluster. Without one
 * the session runs on its own worker and applies what the worker reports itself.
 */
export interface SessionBackend {
  /**
   * The owner: what its worker reports goes here (appended to the session's stream) instead of
   * to the read model; the stream brings it back, to every node, through `applyReport`.
   */
  publish?: ((report: SessionReport) => void) | undefined;
  /** A node that does not own it: its commands go here (to the owner) instead of to a worker. */
  forward?:
    | (<T extends CommandType>(command: CommandOf<T>) => Promise<CommandResult<T>>)
    | undefined;
}

/**
 * The reports of one page of a resync (a worker's snapshot, or another node's read model): one
 * per poll, or one without a poll for an empty last page. `first`: no report of this resync
 * was made before.
 */
export function* resyncReports(
  state: SessionState,
  polls: readonly Poll[],
  first: boolean,
  last: boolean,
  replace = false,
): Generator<ResyncReport> {
  const how = replace ? { replace } : {};
  if (polls.length === 0) {
    if (last) yield { type: 'resync', ...state, poll: null, first, last, ...how };
    return;
  }
  for (let i = 0; i < polls.length; i++) {
    const end = last && i === polls.length - 1;
    const poll = polls[i]!;
    yield { type: 'resync', ...state, poll, first: first && i === 0, last: end, ...how };
  }
}
