import { errors, type Poll } from '@pollmasters/shared';
import {
  Command,
  type CommandOf,
  CommandResult,
  type CommandType,
  SNAPSHOT_PAGE_VOTERS,
  type WebhookCommandType,
  webhookCommands,
} from '@pollmasters/shared/node';
import { z } from 'zod';
import { resyncReports } from '../session/sessionReport.js';
import type { SessionService } from '../session/sessionService.js';

/** The commands a node forwards to a session's owner: what a client can ask of a session. */
const forwarded = new Set<CommandType>([
  'sendPoll',
  'votePoll',
  'listChats',
  'logout',
  'requestPairingCode',
  ...webhookCommands.map((c) => c.shape.type.value),
]);

/** A page of a node's read model of a session, for a node that joins it (`readModel`). */
export const ReadModelPage = CommandResult.snapshot.extend({
  /** Where in the session's stream the read model was: an entry's id, its epoch and seq. */
  streamId: z.string(),
  epoch: z.string(),
  seq: z.number().int().nonnegative(),
});
export type ReadModelPage = z.infer<typeof ReadModelPage>;

const ReadModelRequest = z.object({ type: z.literal('readModel'), after: z.string().optional() });
/** What one node asks another for a session. */
export const RemoteRequest = z.union([ReadModelRequest, Command]);
export type RemoteRequest = z.infer<typeof RemoteRequest>;

/** The result of a forwarded command, checked as the worker channel checks its results. */
export const resultOf = <T extends CommandType>(type: T, raw: unknown): CommandResult<T> =>
  CommandResult[type].parse(raw) as CommandResult<T>;

/**
 * Runs a forwarded command on the owner's session (../session/sessionService.ts): its result is
 * the worker channel's result of that command.
 * @throws BAD_INPUT for a command that is not forwarded
 */
export const runCommand = async (
  service: SessionService,
  command: Command,
): Promise<CommandResult<CommandType>> => {
  if (!forwarded.has(command.type)) {
    throw errors.badInput(`${command.type} is not a command for a session's owner`);
  }
  switch (command.type) {
    case 'sendPoll':
      return { poll: await service.sendPoll(command.poll) };
    case 'votePoll':
      return service.votePoll(command.vote);
    case 'listChats':
      return { chats: await service.listChats() };
    case 'logout':
      await service.logout();
      return {};
    case 'requestPairingCode':
      return { code: await service.requestPairingCode(command.phoneNumber) };
    default:
      return service.webhook(command as CommandOf<WebhookCommandType>);
  }
};

/**
 * A page of a session's read model, polls by id after `after`, ending at about
 * `SNAPSHOT_PAGE_VOTERS` voters (a page holds one poll at least), with where it is in the stream.
 */
export const readModelPage = (
  service: SessionService,
  streamId: string,
  after: string | undefined,
): ReadModelPage => {
  const at = service.position;
  if (!at) throw errors.workerGone(`session ${service.sessionId} is not followed here yet`);
  const ids = service
    .listPollHeads()
    .map((p) => p.id)
    .filter((id) => after === undefined || id > after)
    .sort();
  const polls: Poll[] = [];
  let voters = 0;
  for (const id of ids) {
    if (polls.length > 0 && voters >= SNAPSHOT_PAGE_VOTERS) break;
    const poll = service.getPoll(id);
    if (!poll) continue;
    polls.push(poll);
    voters += poll.voters.length;
  }
  const more = polls.length > 0 && ids.length > polls.length;
  return {
    ...service.sessionState,
    polls,
    next: more ? polls[polls.length - 1]!.id : null,
    streamId,
    epoch: at.epoch,
    seq: at.seq,
  };
};

/** What asks the node that holds a session's read model for one page of it. */
export type ReadModelCall = (request: z.input<typeof ReadModelRequest>) => Promise<unknown>;

/** The pages of another node's read model of a session, in order, each asked for in turn. */
export async function* readModelPages(call: ReadModelCall): AsyncGenerator<ReadModelPage> {
  let page = ReadModelPage.parse(await call({ type: 'readModel' }));
  yield page;
  while (page.next !== null) {
    page = ReadModelPage.parse(await call({ type: 'readModel', after: page.next }));
    yield page;
  }
}

/**
 * Builds a session's read model from another node's, page by page (as a resync: polls it
 * held and the other node does not are gone); returns the first page's place in the stream
 * (later pages may be newer: replaying the stream from there is idempotent) with the newest
 * seq any page was at.
 */
export const copyReadModel = async (
  service: SessionService,
  call: ReadModelCall,
): Promise<ReadModelPage> => {
  let first: ReadModelPage | null = null;
  let seq = 0;
  for await (const page of readModelPages(call)) {
    first ??= page;
    seq = Math.max(seq, page.seq);
    const { polls, next, streamId: _id, epoch: _epoch, seq: _seq, ...state } = page;
    for (const report of resyncReports(state, polls, page === first, next === null)) {
      service.applyReport(report);
    }
  }
  return { ...first!, seq };
};
