import { SealedBatch, useVoteCipher } from '../packages/worker/src/votes/voteCipher.js';
import { VOTERS } from './protocol.js';
import { CREATOR, encryptedPoll, rawDecrypt } from './rawDecrypt.js';

/*
 * The reference of the bench, in a process of its own so that neither the bench's clients nor
 * their data (a heap that grows during the load) weigh on it: Baileys' `decryptPollVote` alone
 * on a 1,000-voter poll, after an untimed warm-up; and, for comparison, the worker's own
 * decryption on the same kind of poll, as the pipeline runs it: the cipher in use
 * (packages/worker/src/votes/voteCipher.ts: the native addon, else node:crypto; the bench's
 * POLLMASTERS_VOTE_CIPHER picks it, as the server's does) on batches of 500 votes, the size of
 * the bench's bursts, each vote decoded. Prints one JSON line: { raw, ours, cipher }.
 */
const BATCH = 500;
const ROUNDS = 20;

const ours = (): number => {
  const { pollId, secret, votes } = encryptedPoll(VOTERS);
  const batch = new SealedBatch();
  const ctx = { pollMsgId: pollId, pollEncKey: secret, pollCreatorJid: CREATOR, voterJid: '' };
  let started = 0;
  for (let r = -1; r < ROUNDS; r++) {
    if (r === 0) started = performance.now();
    for (let from = 0; from < votes.length; from += BATCH) {
      batch.clear();
      const to = Math.min(from + BATCH, votes.length);
      for (let i = from; i < to; i++) {
        ctx.voterJid = votes[i]!.voterJid;
        batch.add(votes[i]!.enc, ctx);
      }
      batch.open();
      for (let i = 0; i < to - from; i++) {
        if (!batch.vote(i)) throw new Error('a vote of the baseline did not open');
      }
    }
  }
  return (votes.length * ROUNDS) / ((performance.now() - started) / 1000);
};

const cipher = useVoteCipher(process.env.POLLMASTERS_VOTE_CIPHER === 'node' ? 'node' : 'auto');
const raw = rawDecrypt(VOTERS, ROUNDS);
process.stdout.write(`${JSON.stringify({ raw: raw.perSec, ours: ours(), cipher: cipher.name })}\n`);
