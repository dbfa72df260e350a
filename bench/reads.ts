import { listAllPolls } from '@pollmasters/client';
import { type AllPollDataResponse, tallyPoll } from '@pollmasters/shared';
import type { Clients } from './clients.js';
import type { Tally } from './protocol.js';

/*
 * Every poll read in full, as a client that wants all of them would: over tRPC (`polls.list`,
 * page by page) and over the GUI's `GET /get-all-poll-data` (one streamed answer). Each gives
 * the counts it saw, for the bench's exactness checks; the bench reads the server's peak RSS
 * after each, so the memory target holds while everything is read.
 */

/** Counts per poll from the server's read model (tRPC `polls.list`, every page). */
export const countsOverTrpc = async (clients: Clients): Promise<Map<string, Tally>> => {
  const out = new Map<string, Tally>();
  for (const poll of await listAllPolls(clients.trpc)) {
    out.set(poll.id, { voters: poll.voters.length, counts: tallyPoll(poll) });
  }
  return out;
};

/** Counts per poll from the compat `GET /get-all-poll-data` (voters and results as the GUI reads them). */
export const countsOverCompat = async (url: string): Promise<Map<string, Tally>> => {
  const res = await fetch(`${url}/get-all-poll-data`);
  if (!res.ok) throw new Error(`GET /get-all-poll-data answered ${res.status}`);
  const body = (await res.json()) as AllPollDataResponse;
  const out = new Map<string, Tally>();
  for (const [id, data] of Object.entries(body.polls)) {
    out.set(id, { voters: Object.keys(data.voters).length, counts: { ...data.results } });
  }
  return out;
};
