import { randomBytes } from 'node:crypto';
import { optionHash } from '@pollmasters/shared/node';
import { aesEncryptGCM, hmacSign, proto } from '@whiskeysockets/baileys';

/** What binds an encrypted vote to one poll and one voter; the inputs of `decryptPollVote`. */
export interface PollVoteContext {
  /** The poll creation message id. */
  pollMsgId: string;
  /** The poll's `messageContextInfo.messageSecret` (32 bytes). */
  pollEncKey: Uint8Array;
  /** The creator JID that signs (our PN or our LID, no device suffix). */
  pollCreatorJid: string;
  /** The voter JID that signs (their PN or their LID). */
  voterJid: string;
}

/**
 * Encrypts a vote exactly as a WhatsApp client does: the inverse of Baileys'
 * `decryptPollVote` (lib/Utils/process-message.js), step for step, so that the worker's
 * decryption is exercised for real.
 */
export function encryptPollVote(
  selectedOptions: readonly string[],
  { pollMsgId, pollEncKey, pollCreatorJid, voterJid }: PollVoteContext,
  iv: Uint8Array = randomBytes(12),
): { encPayload: Buffer; encIv: Buffer } {
  const sign = Buffer.concat([
    Buffer.from(pollMsgId),
    Buffer.from(pollCreatorJid),
    Buffer.from(voterJid),
    Buffer.from('Poll Vote'),
    new Uint8Array([1]),
  ]);
  // hmacSign(buffer, key): key0 = HMAC-SHA256(key = 32 zero bytes, data = messageSecret).
  const key0 = hmacSign(pollEncKey, new Uint8Array(32), 'sha256');
  const encKey = hmacSign(sign, key0, 'sha256');
  const aad = Buffer.from(`${pollMsgId}\u0000${voterJid}`);
  const plaintext = proto.Message.PollVoteMessage.encode({
    // WhatsApp identifies an option by the SHA-256 of its text (raw bytes here), never by index.
    selectedOptions: selectedOptions.map((name) => Buffer.from(optionHash(name), 'hex')),
  }).finish();
  return { encPayload: aesEncryptGCM(plaintext, encKey, iv, aad), encIv: Buffer.from(iv) };
}
