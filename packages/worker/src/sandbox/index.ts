import type { MakePollSocket } from '../socket.js';
import { CreatePoll, type CreatePollInput } from './channel.js';
import { ControlChannel } from './control.js';
import type { Ledger, LedgerVote } from './ledger.js';
import { type Logger, silentLogger } from './logger.js';
import { Network } from './network.js';
import { SandboxOptions, type SandboxOptionsInput } from './options.js';
import type { PlannedCast } from './plan.js';
import { createSandboxSocket } from './socket.js';
import type { SentPoll } from './store.js';
import type { World } from './world.js';

export { prepareVotes, syntheticPerson } from './burst.js';
export type { CastKind, PlannedCast } from './plan.js';
export * from './remote.js';
export { encryptPollVote, type PollVoteContext } from './votes.js';
export {
  canonicalId,
  OWN_ACCOUNT,
  type Person,
  type Signing,
  type World,
  type WorldChat,
} from './world.js';

/** A simulated WhatsApp network and the means to connect to it and to inspect it. */
export interface Sandbox {
  /** Makes a socket connected to this network; call it again to reconnect, as with Baileys. */
  makeWASocket: MakePollSocket;
  readonly options: SandboxOptions;
  /** Our account, the people and the chats. */
  readonly world: World;
  /** Every vote the network cast, and the results a correct worker must reach. */
  readonly ledger: Ledger;
  /** The polls this network carried, also those from before a restart (with `stateDir`). */
  polls(): SentPoll[];
  /** The vote plan of a poll (none with `autoVote` off). */
  plan(pollId: string): PlannedCast[] | undefined;
  /** Casts a vote now. @throws on an unknown poll or a voter outside its chat. */
  vote(pollId: string, voter: string, options: readonly string[]): LedgerVote;
  /**
   * Creates a poll on the account's phone (no `creator`) or by a member of its chat; with
   * `hold`, it is delivered only on `releasePoll` (its votes come first).
   * @throws on an unknown chat, a creator outside it, or invalid content.
   */
  createPoll(poll: CreatePollInput): SentPoll;
  /** Delivers a poll created with `hold`. @throws when no such poll is held back. */
  releasePoll(pollId: string): void;
  /** The user unlinks us on their phone: sockets close with `loggedOut` (401). */
  logoutFromPhone(): void;
  /** The connection drops: sockets close with `connectionLost` (408). */
  dropConnection(): void;
  /** Stops everything: every socket closes, every timer is cleared, the channel is closed. */
  close(): void;
}

/**
 * Creates a simulated WhatsApp network (docs/design.md, "The sandbox").
 * @see SandboxOptions for what shapes it; everything has a default.
 */
export function createSandbox(
  options: SandboxOptionsInput = {},
  deps: { logger?: Logger } = {},
): Sandbox {
  const parsed = SandboxOptions.parse(options);
  const channel = new ControlChannel(parsed.channelName);
  const network = new Network(parsed, deps.logger ?? silentLogger(), channel.post);
  channel.serve(network);
  return {
    makeWASocket: (config) => createSandboxSocket(network, config),
    options: parsed,
    world: network.world,
    ledger: network.ledger,
    polls: () => network.sentPolls(),
    plan: (pollId) => network.people.plan(pollId),
    vote: (pollId, voter, chosen) => network.people.vote(pollId, voter, chosen),
    createPoll: (poll) => network.creators.create(CreatePoll.parse(poll)),
    releasePoll: (pollId) => {
      if (!network.release(pollId)) throw new Error(`poll ${pollId} is not held back`);
    },
    logoutFromPhone: () => network.logoutFromPhone(),
    dropConnection: () => network.dropConnection(),
    close: () => {
      network.close();
      channel.close();
    },
  };
}

let shared: Sandbox | undefined;

/**
 * Baileys' entry point, for `POLLMASTERS_BAILEYS_MODULE` pointing at this module. One network
 * per process (created on the first call, from the JSON options in `POLLMASTERS_SANDBOX`), so
 * that reconnecting sockets find the same world, polls and registration.
 */
export const makeWASocket: MakePollSocket = (config) => {
  shared ??= createSandbox(optionsFromEnv(), { logger: config.logger });
  return shared.makeWASocket(config);
};
export default makeWASocket;

function optionsFromEnv(): SandboxOptionsInput {
  const raw = process.env.POLLMASTERS_SANDBOX;
  if (!raw?.trim()) return {};
  try {
    return JSON.parse(raw) as SandboxOptionsInput;
  } catch (err) {
    throw new Error('POLLMASTERS_SANDBOX must be JSON sandbox options', { cause: err });
  }
}
