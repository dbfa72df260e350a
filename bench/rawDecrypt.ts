import { randomBytes } from 'node:crypto';
import { encryptPollVote, syntheticPerson } from '@pollmasters/worker/sandbox';
import { decryptPollVote } from '@whiskeysockets/baileys';
import { OPTIONS } from './protocol.js';

export const CREATOR = '100000000000001@lid';

interface Vote {
  voterJid: string;
  enc: { encPayload: Buffer; encIv: Buffer };
}

/** One poll and `voters` real encrypted votes on it, one per voter, LID-signed. */
export function encryptedPoll(voters: number) {
  const pollId = `3EB0${randomBytes(9).toString('hex').toUpperCase()}`;
  const secret = randomBytes(32);
  const votes: Vote[] = [];
  for (let i = 0; i < voters; i++) {
    const voterJid = syntheticPerson(7, i).lid;
    const chosen = [OPTIONS[i % OPTIONS.length]!];
    votes.push({
      voterJid,
      enc: encryptPollVote(chosen, {
        pollMsgId: pollId,
        pollEncKey: secret,
        pollCreatorJid: CREATOR,
        voterJid,
      }),
    });
  }
  return { pollId, secret, votes };
}

/** The inputs of one vote's decryption, as Baileys' `decryptPollVote` takes them. */
type Decrypt = (
  enc: Vote['enc'],
  ctx: { pollCreatorJid: string; pollMsgId: string; pollEncKey: Uint8Array; voterJid: string },
) => unknown;

/**
 * Votes per second of one decryption alone (Baileys' `decryptPollVote` unless told), over
 * `rounds` passes of the poll, after one untimed pass (so that the figure is the compiled
 * code's, as the pipeline's is).
 */
export function rawDecrypt(
  voters: number,
  rounds: number,
  decrypt: Decrypt = decryptPollVote,
): { perSec: number } {
  const { pollId, secret, votes } = encryptedPoll(voters);
  let started = 0;
  for (let r = -1; r < rounds; r++) {
    if (r === 0) started = performance.now();
    for (const vote of votes) {
      decrypt(vote.enc, {
        pollCreatorJid: CREATOR,
        pollMsgId: pollId,
        pollEncKey: secret,
        voterJid: vote.voterJid,
      });
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return { perSec: (voters * rounds) / seconds };
}
