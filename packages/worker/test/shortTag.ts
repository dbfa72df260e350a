import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { VoteKeyContext } from '../src/votes/encryptVote.js';

/**
 * A withdrawal (empty plaintext) sealed with an authentic GCM tag cut to `tagBytes` (4 or 8):
 * Baileys reads a payload under 16 bytes as an empty ciphertext and a short tag, and accepts
 * it; our ciphers refuse it.
 */
export const shortTag = (ctx: VoteKeyContext, tagBytes: number) => {
  const info = [ctx.pollMsgId, ctx.pollCreatorJid, ctx.voterJid, 'Poll Vote'].join('');
  const key = Buffer.from(hkdfSync('sha256', ctx.pollEncKey, new Uint8Array(0), info, 32));
  const encIv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, encIv, { authTagLength: tagBytes });
  cipher.setAAD(Buffer.from(`${ctx.pollMsgId}\u0000${ctx.voterJid}`));
  cipher.final();
  return { encPayload: cipher.getAuthTag(), encIv };
};
