import { proto, type WAMessage, type WAMessageKey } from '@whiskeysockets/baileys';
import type { SentPoll, StoredMessage } from './store.js';
import type { Person, World, WorldChat } from './world.js';

export interface VoteMessageInput {
  chat: WorldChat;
  voter: Person;
  messageId: string;
  poll: PollOfKey;
  encPayload: Uint8Array;
  encIv: Uint8Array;
  senderTimestampMs: number;
}

/** What a vote's poll key names of its poll. */
export type PollOfKey = Pick<SentPoll, 'id' | 'origin' | 'creatorPn' | 'creatorLid'>;

/**
 * The key a member's message arrives with, as Baileys' `decodeMessageNode` builds it for each
 * kind of chat. The `*Alt` JIDs are only present where WhatsApp would send them: never the PN
 * of someone whose mapping we do not know.
 */
export function memberKey(chat: WorldChat, member: Person, id: string): WAMessageKey {
  if (chat.kind === 'group') {
    const lidAddressed = chat.addressingMode === 'lid';
    const alt = lidAddressed ? (member.mappingKnown ? member.pn : undefined) : member.lid;
    return {
      remoteJid: chat.id,
      fromMe: false,
      id,
      participant: lidAddressed ? member.lid : member.pn,
      ...(alt ? { participantAlt: alt } : {}),
      addressingMode: chat.addressingMode,
    };
  }
  return {
    remoteJid: chat.id,
    remoteJidAlt: chat.addressingMode === 'lid' ? member.pn : member.lid,
    fromMe: false,
    id,
    addressingMode: chat.addressingMode,
  };
}

/** The key of a message the account's phone sent, as it reaches our linked device. */
export function ownKey(chat: WorldChat, me: World['me'], id: string): WAMessageKey {
  if (chat.kind === 'group') {
    const lidAddressed = chat.addressingMode === 'lid';
    return {
      remoteJid: chat.id,
      fromMe: true,
      id,
      participant: lidAddressed ? me.lid : me.pn,
      participantAlt: lidAddressed ? me.pn : me.lid,
      addressingMode: chat.addressingMode,
    };
  }
  return { remoteJid: chat.id, fromMe: true, id, addressingMode: chat.addressingMode };
}

/**
 * The poll key a vote carries, as Baileys' `cleanMessage` leaves it for us: the chat, whether
 * the poll is ours, and in a group a member's poll names its creator.
 */
export function pollKeyOf(chat: WorldChat, poll: PollOfKey): proto.IMessageKey {
  if (poll.origin !== 'member') return { remoteJid: chat.id, fromMe: true, id: poll.id };
  return {
    remoteJid: chat.id,
    fromMe: false,
    id: poll.id,
    ...(chat.kind === 'group'
      ? { participant: chat.addressingMode === 'lid' ? poll.creatorLid : poll.creatorPn }
      : {}),
  };
}

/** A vote message in its stored (JSON-safe) form; see `toWAMessage`. */
export function voteMessage(input: VoteMessageInput): StoredMessage {
  const message = proto.Message.encode({
    pollUpdateMessage: {
      pollCreationMessageKey: pollKeyOf(input.chat, input.poll),
      vote: { encPayload: input.encPayload, encIv: input.encIv },
      senderTimestampMs: input.senderTimestampMs,
    },
  }).finish();
  return {
    key: memberKey(input.chat, input.voter, input.messageId) as Record<string, unknown>,
    message: Buffer.from(message).toString('base64'),
    messageTimestamp: Math.floor(input.senderTimestampMs / 1000),
    pushName: input.voter.name,
  };
}

/**
 * A fresh `WAMessage` from its stored form. The content is decoded from protobuf bytes, so it
 * has exactly the types a received message has in Baileys (`Long` timestamps, byte arrays).
 */
export function toWAMessage(stored: StoredMessage): WAMessage {
  return {
    key: { ...(stored.key as WAMessageKey) },
    message: proto.Message.decode(Buffer.from(stored.message, 'base64')),
    messageTimestamp: stored.messageTimestamp,
    pushName: stored.pushName,
  };
}
