import type { VoterSelection } from '@pollmasters/shared';

/**
 * A voter's stored selection: what their newest accepted vote said (`selected` empty =
 * withdrawn, kept so that an older vote stays stale). The id of the message that said it is
 * in the vote log only (./../store/pollStore.ts): a message delivered again has the same time
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

/**
 * A poll's options as votes are counted against them. `split` separates a vote's selected
 * hashes into the poll's options (deduplicated, in option order) and a count of hashes that
 * match none, and hands out one shared, frozen array per distinct selection: the voters of a
 * poll hold a few arrays between them instead of one each.
 */
export class Selections {
  private readonly shared = new Map<number, string[]>();
  private readonly known: ReadonlySet<string>;

  constructor(readonly hashes: readonly string[]) {
    this.known = new Set(hashes);
  }

  split(selectedHex: readonly string[]): { selected: string[]; unknown: number } {
    const chosen = new Set(selectedHex);
    let unknown = 0;
    for (const hash of chosen) if (!this.known.has(hash)) unknown += 1;
    let mask = 0;
    for (let i = 0; i < this.hashes.length; i++) if (chosen.has(this.hashes[i]!)) mask += 2 ** i;
    // Masks are exact up to 2^53: a poll with more options (WhatsApp allows 12) shares nothing.
    if (this.hashes.length > 52) {
      return { selected: this.hashes.filter((h) => chosen.has(h)), unknown };
    }
    let selected = this.shared.get(mask);
    if (!selected) {
      selected = Object.freeze(this.hashes.filter((h) => chosen.has(h)).slice()) as string[];
      this.shared.set(mask, selected);
    }
    return { selected, unknown };
  }
}
