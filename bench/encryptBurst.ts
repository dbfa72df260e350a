import { type PreparedVotes, prepareVotes } from '@pollmasters/worker/sandbox';
import type { BurstKeys } from '@pollmasters/worker/sandbox/remote';
import { VOTERS } from './protocol.js';

/**
 * VOTERS votes per poll, encrypted here as the voters' phones would, with what the sandbox
 * tells a member of each poll's chat (`keys`: a server process's `burstKeys` answer), so that
 * the server only receives and counts them: its CPU time and garbage are the pipeline's; its
 * memory holds the network's queue of these votes once, in shared memory (about 8 MB for
 * 100,000; bench/sharedVotes.ts).
 */
export const encryptBurst = async (
  keys: Promise<{ keys: BurstKeys[] }>,
  seed: number,
): Promise<PreparedVotes[]> => (await keys).keys.map((k) => prepareVotes(k, seed, VOTERS));
