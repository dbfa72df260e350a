import { optionHash } from '@pollmasters/shared';
import {
  jidNormalizedUser,
  normalizeMessageContent,
  proto,
  toNumber,
  type WAMessage,
} from '@whiskeysockets/baileys';
import type { NewPoll } from '../store/pollStore.js';
import type { OwnJids } from './identity.js';

/**
 * Reads a poll creation message (V1, V2 or V3) sent from our account into what the store
 * keeps; null for anything else. Our polls are signed as our PN or our LID: both are kept.
 */
export const parsePollCreation = (msg: WAMessage, me: OwnJids): NewPoll | null => {
  const content = normalizeMessageContent(msg.message);
  const creation =
    content?.pollCreationMessage ??
    content?.pollCreationMessageV2 ??
    content?.pollCreationMessageV3;
  const id = msg.key.id;
  const chatId = msg.key.remoteJid;
  if (!creation || !id || !chatId || !msg.key.fromMe) return null;
  const secret =
    msg.message?.messageContextInfo?.messageSecret ?? content?.messageContextInfo?.messageSecret;
  const names = (creation.options ?? []).map((o) => o.optionName ?? '');
  const creatorJids = [me.pn, me.lid].filter((j): j is string => !!j).map(jidNormalizedUser);
  const ts = toNumber(msg.messageTimestamp);
  return {
    id,
    chatId: jidNormalizedUser(chatId),
    question: creation.name ?? '',
    options: names.map((name) => ({ name, hash: optionHash(name) })),
    selectableCount: creation.selectableOptionsCount ?? 0,
    createdAt: ts > 0 ? ts * 1000 : Date.now(),
    secret: secret && secret.length > 0 ? new Uint8Array(secret) : null,
    creatorJids,
    message: proto.WebMessageInfo.encode(msg as proto.IWebMessageInfo).finish(),
  };
};
