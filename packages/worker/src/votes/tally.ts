import type { VoterSelection } from '@pollmasters/shared';

/**
 * A voter's stored selection: what their newest accepted vote said (`selected` empty =
 * withdrawn, kept so that an older vote stays stale), and the message that said it.
 */
export type StoredVote = VoterSelection & { messageId?: string | undefined };

export type Decision = 'accept' | 'stale' | 'duplicate';

/**
 * What to do with an incoming vote given the voter's stored one: a newer vote replaces it,
 * an older one is stale, the same vote delivered again is a duplicate.
 */
export const decide = (current: StoredVote | undefined, incoming: StoredVote): Decision => {
  if (!current) return 'accept';
  if (incoming.timestampMs < current.timestampMs) return 'stale';
  if (incoming.timestampMs === current.timestampMs) {
    if (incoming.messageId !== undefined && incoming.messageId === current.messageId) {
      return 'duplicate';
    }
    if (sameSelection(incoming.selected, current.selected)) return 'duplicate';
  }
  return 'accept';
};

const sameSelection = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((h) => b.includes(h));

/**
 * Splits a vote's selected hashes into the poll's known options (deduplicated, in option
 * order) and a count of hashes that match no option.
 */
export const splitSelection = (
  optionHashes: readonly string[],
  selectedHex: readonly string[],
): { selected: string[]; unknown: number } => {
  const chosen = new Set(selectedHex);
  const selected = optionHashes.filter((h) => chosen.has(h));
  const unknown = [...chosen].filter((h) => !optionHashes.includes(h)).length;
  return { selected, unknown };
};
