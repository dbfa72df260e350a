import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { proto } from '@whiskeysockets/baileys';

/** What binds an encrypted vote to one poll and one voter (the inputs of `decryptPollVote`). */
export interface VoteKeyContext {
  /** The poll creation message's id. */
  pollMsgId: string;
  /** The poll's `messageSecret`. */
  pollEncKey: Uint8Array;
  /** The poll's author as the chat knows it (PN or LID, no device). */
  pollCreatorJid: string;
  /** Who votes, as the chat knows them (PN or LID, no device). */
  voterJid: string;
}

export interface EncryptedVote {
  encPayload: Buffer;
  encIv: Buffer;
}

const POLL_VOTE = Buffer.from('Poll Vote');
const NO_SALT = Buffer.alloc(0);

/**
 * Encrypts a selection as a WhatsApp client does, so that every member's phone (and Baileys'
 * `decryptPollVote`) reads it: the key is HKDF-SHA256 of the poll's secret with the info
 * pollMsgId‖creatorJid‖voterJid‖"Poll Vote" (the use-case secret of WhatsApp's message
 * add-ons), the cipher AES-256-GCM with a fresh 12-byte iv and the AAD `pollMsgId\0voterJid`,
 * and the plaintext a `PollVoteMessage` of the options' SHA-256 bytes. The payload is the
 * ciphertext followed by the 16-byte tag, as the decrypting side expects.
 *
 * Written with node:crypto rather than Baileys' helpers, so that the tests that decrypt with
 * Baileys check it against an independent implementation.
 */
export const encryptVote = (
  selectedHashes: readonly string[],
  ctx: VoteKeyContext,
  iv: Uint8Array = randomBytes(12),
): EncryptedVote => {
  const info = Buffer.concat([
    Buffer.from(ctx.pollMsgId),
    Buffer.from(ctx.pollCreatorJid),
    Buffer.from(ctx.voterJid),
    POLL_VOTE,
  ]);
  const key = Buffer.from(hkdfSync('sha256', ctx.pollEncKey, NO_SALT, info, 32));
  const plaintext = proto.Message.PollVoteMessage.encode({
    selectedOptions: selectedHashes.map((hash) => Buffer.from(hash, 'hex')),
  }).finish();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`${ctx.pollMsgId}\u0000${ctx.voterJid}`));
  const encPayload = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { encPayload, encIv: Buffer.from(iv) };
};
