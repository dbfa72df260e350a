import { randomBytes } from 'node:crypto';
import type { PollCreator } from '@pollmasters/shared';
import type { WAMessage } from '@whiskeysockets/baileys';
import type { CreatePoll } from './channel.js';
import { creationMessage, historyMessage, newMessageId } from './creations.js';
import { type PastPoll, planHistory } from './history.js';
import type { Ledger } from './ledger.js';
import type { SandboxOptions } from './options.js';
import type { SentPoll, StoredMessage } from './store.js';
import { canonicalId, findChat, findPerson, type Person, type World } from './world.js';

/** What the poll creators need of the network (./network.ts). */
export interface CreatorsHost {
  readonly world: World;
  readonly options: SandboxOptions;
  readonly ledger: Ledger;
  polls(): SentPoll[];
  /** Records a poll; its chat's members vote on it (`autoVote`) unless `plan` is false. */
  addPoll(poll: Omit<SentPoll, 'sequence'>, plan: boolean): SentPoll;
  /** Keeps a message for us (`held`: until released) and hands it over if we are online. */
  deliver(message: StoredMessage, held: boolean): void;
}

/**
 * Polls made elsewhere than through the app: on the account's phone (they reach our linked
 * device as our own messages) and by the members of its chats; and the history sync of the
 * first login, with the polls from before the app was linked and their votes.
 */
export class Creators {
  constructor(private readonly host: CreatorsHost) {}

  /**
   * Creates a poll now, on the account's phone or (`creator`) by a member of the chat; its
   * chat's members vote on it (`autoVote`), even while its delivery is `hold`-ed back.
   * @throws when the chat is unknown, the creator is not in it, or the content is invalid.
   */
  create(input: CreatePoll): SentPoll {
    const { world } = this.host;
    const chat = findChat(world, input.chatId);
    if (!chat) throw new Error(`unknown chat ${input.chatId}`);
    const creator = input.creator ? findPerson(world, input.creator) : undefined;
    if (input.creator && (!creator || !chat.members.includes(creator))) {
      throw new Error(`${input.creator} is not a member of ${chat.id}`);
    }
    const owner = creator ?? world.me;
    const poll = this.host.addPoll(
      {
        id: newMessageId(),
        chatId: chat.id,
        name: input.name,
        options: input.options,
        selectableCount: input.selectableCount,
        messageSecret: randomBytes(32).toString('base64'),
        creatorPn: owner.pn,
        creatorLid: owner.lid,
        origin: creator ? 'member' : 'phone',
        history: false,
        sentAt: Date.now(),
      },
      true,
    );
    this.host.deliver(creationMessage(poll, chat, world, creator), input.hold);
    return poll;
  }

  /**
   * The poll messages of the history sync: on the first call with `historyPolls`, the past is
   * made (./history.ts) and its votes recorded in the ledger; then, and on later calls (a
   * restart, another link), its polls with the votes as the phone keeps them.
   */
  historySync(): WAMessage[] {
    const { world, options, ledger } = this.host;
    const past = this.host.polls().filter((p) => p.history);
    if (past.length === 0 && options.historyPolls > 0) {
      const made = planHistory(world, options, Date.now());
      for (const { poll } of made.polls) past.push(this.host.addPoll(poll, false));
      for (const vote of made.votes) ledger.record(vote);
    }
    return past.flatMap((poll) => {
      const chat = findChat(world, poll.chatId);
      if (!chat) return [];
      const votes = ledger.all(poll.id).filter((v) => v.history);
      return [historyMessage(poll, chat, world, this.memberCreator(poll), votes)];
    });
  }

  /** Who created a poll, as a correct worker names them: the canonical JID, and ours or not. */
  creatorOf(poll: SentPoll): PollCreator {
    const member = this.memberCreator(poll);
    return member
      ? { jid: canonicalId(member), fromMe: false }
      : { jid: this.host.world.me.pn, fromMe: true };
  }

  private memberCreator(poll: Pick<PastPoll['poll'], 'origin' | 'creatorPn'>): Person | undefined {
    return poll.origin === 'member' ? findPerson(this.host.world, poll.creatorPn) : undefined;
  }
}
