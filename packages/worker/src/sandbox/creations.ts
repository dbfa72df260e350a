import { randomBytes } from 'node:crypto';
import { optionHash } from '@pollmasters/shared/node';
import { proto, type WAMessage } from '@whiskeysockets/baileys';
import type { LedgerVote } from './ledger.js';
import { memberKey, ownKey } from './messages.js';
import type { SentPoll, StoredMessage } from './store.js';
import type { Person, World, WorldChat } from './world.js';

/** A new message id, as WhatsApp clients make them. */
export const newMessageId = (): string => `3EB0${randomBytes(9).toString('hex').toUpperCase()}`;

/**
 * A poll creation as a WhatsApp client builds it (Baileys' `generateWAMessageContent`): V3
 * for a single answer, else V1; its secret in `messageContextInfo`, unless `secretAtTop`.
 */
const creationContent = (poll: SentPoll, secretAtTop = false): proto.IMessage => {
  const creation = {
    name: poll.name,
    options: poll.options.map((optionName) => ({ optionName })),
    selectableOptionsCount: poll.selectableCount,
  };
  return {
    ...(poll.selectableCount === 1
      ? { pollCreationMessageV3: creation }
      : { pollCreationMessage: creation }),
    ...(secretAtTop
      ? {}
      : { messageContextInfo: { messageSecret: Buffer.from(poll.messageSecret, 'base64') } }),
  };
};

/** The key a poll's creation message reaches our linked device with. */
const creationKey = (poll: SentPoll, chat: WorldChat, world: World, creator: Person | undefined) =>
  creator ? memberKey(chat, creator, poll.id) : ownKey(chat, world.me, poll.id);

/**
 * The creation message of a poll made on the account's phone (`creator` undefined) or by a
 * member, in its stored (JSON-safe) form: what our device receives live.
 */
export function creationMessage(
  poll: SentPoll,
  chat: WorldChat,
  world: World,
  creator: Person | undefined,
): StoredMessage {
  return {
    key: creationKey(poll, chat, world, creator) as Record<string, unknown>,
    message: Buffer.from(proto.Message.encode(creationContent(poll)).finish()).toString('base64'),
    messageTimestamp: Math.floor(poll.sentAt / 1000),
    pushName: creator?.name ?? world.me.name,
  };
}

/**
 * A poll as the history sync of the first login carries it: a WebMessageInfo decoded from the
 * history blob (so its key has no `*Alt` JIDs, which protobuf has no field for), its secret in
 * the message's own `messageSecret`, and in `pollUpdates` each voter's latest vote as the phone
 * decrypted it (plaintext option hashes, the voter named by the update's key). A withdrawn
 * vote leaves no update, as in Baileys' `updateMessageWithPollUpdate`.
 */
export function historyMessage(
  poll: SentPoll,
  chat: WorldChat,
  world: World,
  creator: Person | undefined,
  votes: readonly LedgerVote[],
): WAMessage {
  const latest = new Map<string, LedgerVote>();
  for (const vote of votes) {
    const known = latest.get(vote.voterId);
    if (!known || vote.senderTimestampMs > known.senderTimestampMs) latest.set(vote.voterId, vote);
  }
  const pollUpdates: proto.IPollUpdate[] = [...latest.values()]
    .filter((vote) => vote.selectedOptions.length > 0)
    .map((vote) => {
      const fromMe = vote.voterPn === world.me.pn;
      const participant = chat.addressingMode === 'lid' ? vote.voterLid : vote.voterPn;
      return {
        pollUpdateMessageKey: {
          remoteJid: chat.id,
          fromMe,
          id: vote.messageId,
          ...(chat.kind === 'group' ? { participant } : {}),
        },
        vote: {
          selectedOptions: vote.selectedOptions.map((o) => Buffer.from(optionHash(o), 'hex')),
        },
        senderTimestampMs: vote.senderTimestampMs,
      };
    });
  const bytes = proto.WebMessageInfo.encode({
    key: creationKey(poll, chat, world, creator),
    message: creationContent(poll, true),
    messageTimestamp: Math.floor(poll.sentAt / 1000),
    messageSecret: Buffer.from(poll.messageSecret, 'base64'),
    pushName: creator?.name ?? world.me.name,
    pollUpdates,
  }).finish();
  return proto.WebMessageInfo.decode(bytes) as WAMessage;
}
