import type { PollOption, PollVoteData, VoteChange, WebhookOption } from '@pollmasters/shared';
import { isLidUser, isPnUser } from '@whiskeysockets/baileys';
import type { StoredPoll } from '../store/storedPoll.js';

/** Who voted: the canonical id and the other ids the vote named for the same person. */
export interface VoterIds {
  id: string;
  aliases: readonly string[];
}

/**
 * The options among `hashes` (in their order) that are also absent from `except`, by name
 * and hash. Polls have a handful of options: scanning them is cheaper than
 * building a Map or Set for every vote (this runs once per accepted vote on the burst path).
 */
const named = (
  options: readonly PollOption[],
  hashes: readonly string[],
  except: readonly string[] = [],
): WebhookOption[] => {
  const out: WebhookOption[] = [];
  for (const h of hashes) {
    if (except.includes(h)) continue;
    const o = options.find((x) => x.hash === h);
    if (o) out.push({ name: o.name, hash: o.hash });
  }
  return out;
};

/** The first of the voter's ids that `is` accepts, or null. */
const idWhere = (voter: VoterIds, is: (jid: string) => boolean | undefined): string | null => {
  if (is(voter.id)) return voter.id;
  for (const a of voter.aliases) if (is(a)) return a;
  return null;
};

/**
 * The `poll.vote` data of an accepted vote: what it changed for this voter (options added and
 * removed), the voter by phone-number JID and LID where known, and the poll's counts after it.
 * `poll` is its state after the vote.
 */
export const pollVoteData = (
  poll: StoredPoll,
  change: VoteChange,
  previous: readonly string[],
  voter: VoterIds,
  counts: ReadonlyMap<string, number>,
): PollVoteData => {
  const { options } = poll;
  const tally = new Array<{ name: string; count: number }>(options.length);
  for (let i = 0; i < options.length; i++) {
    tally[i] = { name: options[i]!.name, count: counts.get(options[i]!.hash)! };
  }
  return {
    pollId: poll.id,
    chatId: poll.chatId,
    voter: {
      id: voter.id,
      jid: idWhere(voter, isPnUser),
      lid: idWhere(voter, isLidUser),
      name: change.name ?? null,
    },
    added: named(options, change.selected, previous),
    removed: named(options, previous, change.selected),
    selected: named(options, change.selected),
    tally,
    votedAt: change.timestampMs,
    version: change.version,
  };
};
