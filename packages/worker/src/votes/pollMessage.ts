import { optionHash } from '@pollmasters/shared/node';
import {
  isLidUser,
  isPnUser,
  normalizeMessageContent,
  proto,
  toNumber,
  type WAMessage,
} from '@whiskeysockets/baileys';
import type { NewPoll } from '../store/pollStore.js';
import { normalUser } from './decrypt.js';
import type { OwnJids } from './identity.js';

/**
 * The poll creation a message content carries, whichever version: V1 (multiple answers), V2
 * (announcement groups), V3 (single answer), V5 (newer clients), or V4, a future-proof wrapper
 * around one of them.
 */
const creationIn = (
  content: proto.IMessage | undefined,
): { creation: proto.Message.IPollCreationMessage; holder: proto.IMessage } | undefined => {
  if (!content) return undefined;
  const creation =
    content.pollCreationMessage ??
    content.pollCreationMessageV2 ??
    content.pollCreationMessageV3 ??
    content.pollCreationMessageV5;
  if (creation) return { creation, holder: content };
  const wrapped = content.pollCreationMessageV4?.message;
  return wrapped ? creationIn(normalizeMessageContent(wrapped)) : undefined;
};

/**
 * The poll's secret, wherever WhatsApp put it: the message's own `messageSecret` (history
 * sync), or the `messageContextInfo` of the message or of its unwrapped content.
 */
const secretOf = (msg: WAMessage, holder: proto.IMessage): Uint8Array | null => {
  const secret =
    msg.messageSecret ??
    msg.message?.messageContextInfo?.messageSecret ??
    holder.messageContextInfo?.messageSecret;
  return secret && secret.length > 0 ? new Uint8Array(secret) : null;
};

/** The person JIDs a key names as its sender (PN and LID users), normalised, in key order. */
const senderJids = (key: WAMessage['key']): string[] => {
  const named = key.participant
    ? [key.participant, key.participantAlt]
    : [key.remoteJid, key.remoteJidAlt];
  const out: string[] = [];
  for (const jid of named) {
    if (!jid || !(isPnUser(jid) || isLidUser(jid))) continue;
    const normal = normalUser(jid);
    if (!out.includes(normal)) out.push(normal);
  }
  return out;
};

/**
 * Reads a poll creation message (any version, ours or another member's) into what the store
 * keeps; null for anything else. Our polls are signed as our PN or our LID, another member's
 * as the JIDs its key names (participant and its alternative in a group, the chat and its
 * alternative in a direct chat): all of them are kept to try. The creator's canonical JID is
 * the PN when one is known, else the LID; a caller that can ask the LID mapping may improve it.
 */
export const parsePollCreation = (msg: WAMessage, me: OwnJids): NewPoll | null => {
  const found = creationIn(normalizeMessageContent(msg.message));
  const id = msg.key.id;
  const chatId = msg.key.remoteJid;
  if (!found || !id || !chatId) return null;
  const { creation, holder } = found;
  const fromMe = msg.key.fromMe === true;
  const creatorJids = fromMe
    ? [me.pn, me.lid].filter((j): j is string => !!j).map(normalUser)
    : senderJids(msg.key);
  // Our own JIDs may be learnt later (./voteProcessor.ts); another member's come only from here.
  if (creatorJids.length === 0 && !fromMe) return null;
  const names = (creation.options ?? []).map((o) => o.optionName ?? '');
  const ts = toNumber(msg.messageTimestamp);
  return {
    id,
    chatId: normalUser(chatId),
    creator: { jid: creatorJids.find(isPnUser) ?? creatorJids[0] ?? '', fromMe },
    question: creation.name ?? '',
    options: names.map((name) => ({ name, hash: optionHash(name) })),
    selectableCount: creation.selectableOptionsCount ?? 0,
    createdAt: ts > 0 ? ts * 1000 : Date.now(),
    secret: secretOf(msg, holder),
    creatorJids,
    message: proto.WebMessageInfo.encode(msg as proto.IWebMessageInfo).finish(),
  };
};
