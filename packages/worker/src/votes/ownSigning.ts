import { isLidUser } from '@whiskeysockets/baileys';
import type { PairHint } from '../store/chatStore.js';
import type { OwnJids } from './identity.js';

/** The JIDs an own vote is encrypted for (see `encryptVote`). */
export interface VoteSigning {
  creatorJid: string;
  voterJid: string;
}

/**
 * Which JIDs sign the account's vote, chosen as the members' phones will try them:
 * - the voter is the account as its message reaches the chat: its LID in a LID-addressed chat
 *   (Baileys sends there as our LID), its phone number otherwise;
 * - the creator is the poll's author as the chat knows it: the form that authenticated the
 *   chat's last vote (the pair hint, learnt from votes that decrypted), else the one that
 *   matches the chat's addressing (for our own polls: our LID or our PN, even if the poll was
 *   stored before we knew both);
 * - when the chat's last vote was the account's own (cast on its phone), its voter form wins:
 *   that is how the account's own phone signs there.
 * Null when the account's JIDs or the poll's creator are unknown.
 */
export const ownVoteSigning = (input: {
  creatorJids: readonly string[];
  me: OwnJids;
  lidAddressed: boolean;
  hint?: PairHint | undefined;
}): VoteSigning | null => {
  const { creatorJids, me, lidAddressed, hint } = input;
  const addressed = lidAddressed && me.lid ? me.lid : (me.pn ?? me.lid);
  if (!addressed) return null;
  const own = [me.pn, me.lid].filter((j): j is string => !!j);
  const ours = creatorJids.some((j) => own.includes(j));
  const candidates = ours ? [...new Set([...creatorJids, ...own])] : creatorJids;
  const hinted = hint ? creatorJids[hint.creatorIndex] : undefined;
  const creatorJid =
    hinted ?? candidates.find((j) => !!isLidUser(j) === !!isLidUser(addressed)) ?? candidates[0];
  if (!creatorJid) return null;
  const phoneSigned =
    hint?.voterSource === 'me:pn' ? me.pn : hint?.voterSource === 'me:lid' ? me.lid : undefined;
  return { creatorJid, voterJid: phoneSigned ?? addressed };
};
