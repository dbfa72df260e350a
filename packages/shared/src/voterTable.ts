import type { VoterSelection } from './poll.js';

/**
 * Strings kept once and named by a number: a session's voter ids and names, which recur in
 * every poll of its groups. Grows with the distinct strings (people), never with votes.
 */
export class StringPool {
  private readonly ids = new Map<string, number>();
  private readonly strings: string[] = [];

  idOf(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.ids.set(s, id);
    }
    return id;
  }

  /** The kept copy of `s` (kept from now on if it was not). */
  intern(s: string): string {
    return this.strings[this.idOf(s)]!;
  }

  /** The id of a string already kept, or -1. */
  find(s: string): number {
    return this.ids.get(s) ?? -1;
  }

  at(id: number): string {
    return this.strings[id]!;
  }

  get size(): number {
    return this.strings.length;
  }
}

const NO_NAME = -1;
const EMPTY = -1;

/**
 * A poll's voters, each its newest selection, in columns: per voter a pooled id, a pooled
 * name, the index of its selection among the poll's distinct selections, and its timestamp,
 * in typed arrays, with an open-addressing index from voter id to row. Map-like (`get`, `set`,
 * `delete`, `values`), handing out `VoterSelection` objects made on each read: a million voters
 * are a few typed arrays instead of a million objects, strings and Map entries (measured:
 * docs/performance.md, "A million votes in columns").
 */
export class VoterTable {
  private voterIds = new Int32Array(4);
  private nameIds = new Int32Array(4);
  private choiceIds = new Int32Array(4);
  private times = new Float64Array(4);
  private rows = 0;
  /** Voter id -> row + 1 (0: free), linear probing; its length is a power of two. */
  private index = new Int32Array(8);
  /** The distinct selections, each once (voters share the array they were given first). */
  private readonly choices: (readonly string[])[] = [];
  private readonly choiceOf = new Map<readonly string[], number>();
  private readonly choiceByText = new Map<string, number>();
  /**
   * Rows in voter order (`byVoter`), kept between reads: rows added since are sorted and merged
   * in, so a poll pushed again and again is not sorted whole each time. Null after a delete,
   * which moves a row.
   */
  private order: Int32Array | null = new Int32Array(0);

  constructor(private readonly pool: StringPool) {}

  get size(): number {
    return this.rows;
  }

  has(voter: string): boolean {
    return this.rowOf(voter) !== EMPTY;
  }

  get(voter: string): VoterSelection | undefined {
    const row = this.rowOf(voter);
    return row === EMPTY ? undefined : this.selectionAt(row);
  }

  /** A voter's selection (the shared array it was set with), without making an object. */
  selectedOf(voter: string): readonly string[] | undefined {
    const row = this.rowOf(voter);
    return row === EMPTY ? undefined : this.choices[this.choiceIds[row]!];
  }

  /** Sets a voter's selection (its arrays are shared, never copied: they are read-only). */
  set(
    voter: string,
    v: { name?: string | undefined; selected: readonly string[]; timestampMs: number },
  ): this {
    this.put(voter, v);
    return this;
  }

  /**
   * `set`, returning the voter's selection before (undefined for a new voter): one lookup
   * where `selectedOf` and `set` take two (the read model's vote path).
   */
  put(
    voter: string,
    v: { name?: string | undefined; selected: readonly string[]; timestampMs: number },
  ): readonly string[] | undefined {
    const id = this.pool.idOf(voter);
    let row = this.rowOf(voter, id);
    const before = row === EMPTY ? undefined : this.choices[this.choiceIds[row]!];
    if (row === EMPTY) {
      row = this.rows;
      if (row === this.voterIds.length) this.grow();
      this.rows += 1;
      this.voterIds[row] = id;
      if (2 * this.rows > this.index.length) this.rehash(this.index.length * 2);
      else this.place(id, row);
    }
    this.nameIds[row] = v.name === undefined ? NO_NAME : this.pool.idOf(v.name);
    this.choiceIds[row] = this.choiceIdOf(v.selected);
    this.times[row] = v.timestampMs;
    return before;
  }

  delete(voter: string): boolean {
    const id = this.pool.find(voter);
    if (id === -1) return false;
    const mask = this.index.length - 1;
    let at = this.slotOf(id);
    if (at === EMPTY) return false;
    const row = this.index[at]! - 1;
    // Backward-shift deletion: the entries after it in its probe run move up into the hole.
    this.index[at] = 0;
    for (let next = (at + 1) & mask; this.index[next] !== 0; next = (next + 1) & mask) {
      const home = hash(this.voterIds[this.index[next]! - 1]!) & mask;
      if (((next - home) & mask) >= ((next - at) & mask)) {
        this.index[at] = this.index[next]!;
        this.index[next] = 0;
        at = next;
      }
    }
    // The last row fills the deleted one.
    const last = this.rows - 1;
    this.order = null;
    if (row !== last) {
      this.voterIds[row] = this.voterIds[last]!;
      this.nameIds[row] = this.nameIds[last]!;
      this.choiceIds[row] = this.choiceIds[last]!;
      this.times[row] = this.times[last]!;
      this.index[this.slotOf(this.voterIds[row]!)] = row + 1;
    }
    this.rows = last;
    return true;
  }

  *values(): IterableIterator<VoterSelection> {
    for (let row = 0; row < this.rows; row += 1) yield this.selectionAt(row);
  }

  /** Each voter's selection, without making an object per voter. */
  forEachSelection(each: (selected: readonly string[]) => void): void {
    for (let row = 0; row < this.rows; row += 1) each(this.choices[this.choiceIds[row]!]!);
  }

  /**
   * Each voter's id and selection in voter order (as `byVoter` sorts them), without making an
   * object per voter.
   */
  forEachInOrder(each: (voter: string, selected: readonly string[]) => void): void {
    const order = this.ordered();
    for (let i = 0; i < order.length; i += 1) {
      const row = order[i]!;
      each(this.pool.at(this.voterIds[row]!), this.choices[this.choiceIds[row]!]!);
    }
  }

  private ordered(): Int32Array {
    const before = this.order ?? new Int32Array(0);
    if (before.length === this.rows) return before;
    const voterAt = (row: number) => this.pool.at(this.voterIds[row]!);
    // Voter ids are distinct, so the order is total. Rows only grow between deletes: the rows
    // from `before.length` on are the new ones.
    const added: number[] = [];
    for (let row = before.length; row < this.rows; row += 1) added.push(row);
    added.sort((a, b) => (voterAt(a) < voterAt(b) ? -1 : 1));
    const order = new Int32Array(this.rows);
    let i = 0;
    let j = 0;
    for (let k = 0; k < order.length; k += 1) {
      const takeOld =
        j >= added.length || (i < before.length && voterAt(before[i]!) < voterAt(added[j]!));
      order[k] = takeOld ? before[i++]! : added[j++]!;
    }
    this.order = order;
    return order;
  }

  private selectionAt(row: number): VoterSelection {
    const voter = this.pool.at(this.voterIds[row]!);
    const selected = this.choices[this.choiceIds[row]!]!;
    const timestampMs = this.times[row]!;
    const name = this.nameIds[row]!;
    return name === NO_NAME
      ? { voter, selected, timestampMs }
      : { voter, name: this.pool.at(name), selected, timestampMs };
  }

  private rowOf(voter: string, id = this.pool.find(voter)): number {
    if (id === -1) return EMPTY;
    const slot = this.slotOf(id);
    return slot === EMPTY ? EMPTY : this.index[slot]! - 1;
  }

  /** The index slot that holds voter id `id`, or EMPTY. */
  private slotOf(id: number): number {
    const mask = this.index.length - 1;
    for (let at = hash(id) & mask; ; at = (at + 1) & mask) {
      const entry = this.index[at]!;
      if (entry === 0) return EMPTY;
      if (this.voterIds[entry - 1] === id) return at;
    }
  }

  private place(id: number, row: number): void {
    const mask = this.index.length - 1;
    let at = hash(id) & mask;
    while (this.index[at] !== 0) at = (at + 1) & mask;
    this.index[at] = row + 1;
  }

  private rehash(length: number): void {
    this.index = new Int32Array(length);
    for (let row = 0; row < this.rows; row += 1) this.place(this.voterIds[row]!, row);
  }

  private grow(): void {
    const length = this.voterIds.length * 2;
    const widen = <T extends Int32Array | Float64Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.voterIds = widen(this.voterIds, new Int32Array(length));
    this.nameIds = widen(this.nameIds, new Int32Array(length));
    this.choiceIds = widen(this.choiceIds, new Int32Array(length));
    this.times = widen(this.times, new Float64Array(length));
  }

  private choiceIdOf(selected: readonly string[]): number {
    let id = this.choiceOf.get(selected);
    if (id !== undefined) return id;
    const text = selected.join(',');
    id = this.choiceByText.get(text);
    if (id === undefined) {
      id = this.choices.length;
      this.choices.push(selected);
      this.choiceOf.set(selected, id);
      this.choiceByText.set(text, id);
    }
    return id;
  }
}

/** Spreads consecutive ids over the index (Knuth's multiplicative hash). */
const hash = (id: number): number => Math.imul(id, 0x9e3779b1) >>> 0;
