/**
 * A poll's options as votes are counted against them. `split` separates a vote's selected
 * hashes into the poll's options (deduplicated, in option order, as the poll's own strings)
 * and a count of hashes that match none, and hands out one shared, frozen array per distinct
 * selection: the voters of a poll hold a few arrays between them instead of one each (both
 * threads hold every voter; a vote's hashes arrive as fresh strings each time). The arrays are
 * frozen: whoever gets one (a Poll's voter, a VoteChange) reads it and never changes it.
 */
export class Selections {
  private readonly shared = new Map<number, readonly string[]>();
  /** Option hash -> its bit in a selection mask (the first, should two options share a hash). */
  private readonly bits = new Map<string, number>();

  constructor(readonly hashes: readonly string[]) {
    // Masks are 31-bit integers: a poll with more options (WhatsApp allows 12) shares nothing.
    if (hashes.length > 31) return;
    hashes.forEach((hash, i) => {
      if (!this.bits.has(hash)) this.bits.set(hash, 1 << i);
    });
  }

  split(selectedHex: readonly string[]): { selected: readonly string[]; unknown: number } {
    if (this.bits.size === 0 && this.hashes.length > 0) return this.splitUnshared(selectedHex);
    let mask = 0;
    let unknown: string[] | null = null;
    // Indexed, not for-of: this runs for every vote in both threads.
    for (let i = 0; i < selectedHex.length; i++) {
      const hash = selectedHex[i]!;
      const bit = this.bits.get(hash);
      if (bit !== undefined) mask |= bit;
      else if (!unknown) unknown = [hash];
      else if (!unknown.includes(hash)) unknown.push(hash);
    }
    let selected = this.shared.get(mask);
    if (!selected) {
      selected = Object.freeze(this.hashes.filter((h) => (mask & this.bits.get(h)!) !== 0));
      this.shared.set(mask, selected);
    }
    return { selected, unknown: unknown?.length ?? 0 };
  }

  private splitUnshared(selectedHex: readonly string[]): {
    selected: readonly string[];
    unknown: number;
  } {
    const chosen = new Set(selectedHex);
    let unknown = 0;
    for (const hash of chosen) if (!this.hashes.includes(hash)) unknown += 1;
    return { selected: this.hashes.filter((h) => chosen.has(h)), unknown };
  }
}
