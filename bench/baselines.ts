import { naiveRecipe, rawDecrypt } from './naive.js';
import { VOTERS } from './protocol.js';

/*
 * The two baselines of the bench, in a process of their own so that neither the bench's
 * clients nor their data (a heap that grows during the load) weigh on them: Baileys'
 * `decryptPollVote` alone, and the naive recipe, each on a 1,000-voter poll, after an untimed
 * warm-up. Prints one JSON line: { raw, naive, exact } (votes per second; the naive recipe's
 * own count right).
 */
const raw = rawDecrypt(VOTERS, 20);
naiveRecipe(VOTERS / 5);
const naive = naiveRecipe(VOTERS);
process.stdout.write(
  `${JSON.stringify({ raw: raw.perSec, naive: naive.perSec, exact: naive.exact })}\n`,
);
