import type { PollVoteData, VoteChange, WebhookOption } from '@pollmasters/shared';
import { isLidUser, isPnUser } from '@whiskeysockets/baileys';
import type { StoredPoll } from '../store/storedPoll.js';

/** Who voted: the canonical id and the other ids the vote named for the same person. */
export interface VoterIds {
  id: string;
  aliases: readonly string[];
}

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
  const option = new Map(poll.options.map((o) => [o.hash, o]));
  const named = (hashes: Iterable<string>): WebhookOption[] => {
    const out: WebhookOption[] = [];
    for (const h of hashes) {
      const o = option.get(h);
      if (o) out.push({ name: o.name, hash: o.hash });
    }
    return out;
  };
  const before = new Set(previous);
  const now = new Set(change.selected);
  const ids = [voter.id, ...voter.aliases];
  return {
    pollId: poll.id,
    chatId: poll.chatId,
    voter: {
      id: voter.id,
      jid: ids.find((j) => isPnUser(j)) ?? null,
      lid: ids.find((j) => isLidUser(j)) ?? null,
      name: change.name ?? null,
    },
    added: named(change.selected.filter((h) => !before.has(h))),
    removed: named(previous.filter((h) => !now.has(h))),
    selected: named(change.selected),
    tally: poll.options.map((o) => ({ name: o.name, count: counts.get(o.hash)! })),
    votedAt: change.timestampMs,
    version: change.version,
  };
};
