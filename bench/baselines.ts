import { openVote } from '../packages/worker/src/votes/openVote.js';
import { VOTERS } from './protocol.js';
import { rawDecrypt } from './rawDecrypt.js';

/*
 * The reference of the bench, in a process of its own so that neither the bench's clients nor
 * their data (a heap that grows during the load) weigh on it: Baileys' `decryptPollVote` alone
 * on a 1,000-voter poll, after an untimed warm-up; and, for comparison, the worker's own
 * decryption (node:crypto, ./packages/worker/src/votes/openVote.ts) on the same kind of poll.
 * Prints one JSON line: { raw, ours } (votes per second).
 */
const raw = rawDecrypt(VOTERS, 20);
const ours = rawDecrypt(VOTERS, 20, openVote);
process.stdout.write(`${JSON.stringify({ raw: raw.perSec, ours: ours.perSec })}\n`);
