/**
 * A poll's options as votes are counted against them. `split` separates a vote's selected
 * hashes into the poll's options (deduplicated, in option order, as the poll's own strings)
 * and a count of hashes that match none, and hands out one shared, frozen array per distinct
 * selection: the voters of a poll hold a few arrays between them instead of one each (both
 * threads hold every voter; a vote's hashes arrive as fresh strings each time).
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
