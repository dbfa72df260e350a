import type { VoterSelection } from '@pollmasters/shared';

/**
 * A voter's stored selection: what their newest accepted vote said (`selected` empty =
 * withdrawn, kept so that an older vote stays stale). The id of the message that said it is
 * in the vote log only (./voteLog.ts): a message delivered again has the same time
 * and selection, which is all that `decide` needs.
 */
export type StoredVote = VoterSelection;

/** A decrypted vote on its way to the store, with the id of the message that carried it. */
export type IncomingVote = StoredVote & { messageId?: string | undefined };

export type Decision = 'accept' | 'stale' | 'duplicate';

/**
 * What to do with an incoming vote given the voter's stored one: a newer vote replaces it,
 * an older one is stale, the same vote delivered again (same time, same selection) is a
 * duplicate.
 */
export const decide = (current: StoredVote | undefined, incoming: StoredVote): Decision => {
  if (!current) return 'accept';
  if (incoming.timestampMs < current.timestampMs) return 'stale';
  if (
    incoming.timestampMs === current.timestampMs &&
    sameSelection(incoming.selected, current.selected)
  ) {
    return 'duplicate';
  }
  return 'accept';
};

const sameSelection = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((h) => b.includes(h));
