import { proto, type WAMessage, type WAMessageKey } from '@whiskeysockets/baileys';
import type { StoredMessage } from './store.js';
import type { Person, WorldChat } from './world.js';

export interface VoteMessageInput {
  chat: WorldChat;
  voter: Person;
  messageId: string;
  pollId: string;
  encPayload: Uint8Array;
  encIv: Uint8Array;
  senderTimestampMs: number;
}

/**
 * The key a vote arrives with, as Baileys' `decodeMessageNode` builds it for each kind of chat.
 * The `*Alt` JIDs are only present where WhatsApp would send them: never the PN of someone
 * whose mapping we do not know.
 */
export function voteKey(chat: WorldChat, voter: Person, id: string): WAMessageKey {
  if (chat.kind === 'group') {
    const lidAddressed = chat.addressingMode === 'lid';
    const alt = lidAddressed ? (voter.mappingKnown ? voter.pn : undefined) : voter.lid;
    return {
      remoteJid: chat.id,
      fromMe: false,
      id,
      participant: lidAddressed ? voter.lid : voter.pn,
      ...(alt ? { participantAlt: alt } : {}),
      addressingMode: chat.addressingMode,
    };
  }
  return {
    remoteJid: chat.id,
    remoteJidAlt: chat.addressingMode === 'lid' ? voter.pn : voter.lid,
    fromMe: false,
    id,
    addressingMode: chat.addressingMode,
  };
}

/** A vote message in its stored (JSON-safe) form; see `toWAMessage`. */
export function voteMessage(input: VoteMessageInput): StoredMessage {
  const message = proto.Message.encode({
    pollUpdateMessage: {
      pollCreationMessageKey: { remoteJid: input.chat.id, fromMe: true, id: input.pollId },
      vote: { encPayload: input.encPayload, encIv: input.encIv },
      senderTimestampMs: input.senderTimestampMs,
    },
  }).finish();
  return {
    key: voteKey(input.chat, input.voter, input.messageId) as Record<string, unknown>,
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
