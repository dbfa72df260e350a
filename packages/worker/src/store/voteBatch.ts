/*
 * A batch of the vote log as SQLite keeps it (./voteLog.ts; ./database.ts migrations 5 and 7):
 * how one is written, and read back in either format.
 */

/** A batch's entry: [poll, voter, name, index into `s` (-1: forgotten), timestamp, message id]. */
type Entry<P> = [P, string, string | null, number, number, string | null];

/**
 * A batch as version 5 wrote it: the batch's distinct selections, and per vote [poll id,
 * voter, name, index into `s` (-1: forgotten), timestamp, message id], in the order they
 * happened.
 */
export interface BatchV5 {
  s: (readonly string[])[];
  v: Entry<string>[];
}

/**
 * A batch from version 7 on: the batch's poll ids once (`p`, entries name an index into it),
 * its timestamps as offsets from `t`. A third smaller than version 5's, which named the
 * poll id (about 22 bytes) and the 13-digit timestamp in every entry: SQLite's cost of a batch
 * row grows with its bytes (docs/performance.md, "Session 9").
 */
export interface Batch {
  p: string[];
  t: number;
  s: (readonly string[])[];
  v: Entry<number>[];
}

/** A stored batch in either format, read as version 5's (version 7's converted in place). */
export const parseBatch = (json: string): BatchV5 => {
  const batch = JSON.parse(json) as Batch | BatchV5;
  if (!('p' in batch)) return batch;
  const { p, t, v } = batch;
  const entries = v as unknown as Entry<string | number>[];
  for (const entry of entries) {
    entry[0] = p[entry[0] as number]!;
    entry[4] += t;
  }
  return batch as unknown as BatchV5;
};

/**
 * A batch being written, its selections named by keys of type K (one key per distinct
 * selection: the shared array itself when appending, its JSON when compacting).
 */
export class BatchBuilder<K> {
  private readonly polls: string[] = [];
  private readonly pollIndex = new Map<string, number>();
  readonly selections: K[] = [];
  private readonly selectionIndex = new Map<K, number>();
  private readonly entries: Entry<number>[] = [];
  /** Whether every timestamp is a whole number >= 0, so that offsets from one add up exactly. */
  private whole = true;

  get size(): number {
    return this.entries.length;
  }

  add(
    pollId: string,
    voter: string,
    name: string | null,
    selection: K | null,
    timestampMs: number,
    messageId: string | null,
  ): void {
    let p = this.pollIndex.get(pollId);
    if (p === undefined) {
      p = this.polls.push(pollId) - 1;
      this.pollIndex.set(pollId, p);
    }
    let s = -1;
    if (selection !== null) {
      s = this.selectionIndex.get(selection) ?? -1;
      if (s < 0) {
        s = this.selections.push(selection) - 1;
        this.selectionIndex.set(selection, s);
      }
    }
    if (!(Number.isSafeInteger(timestampMs) && timestampMs >= 0)) this.whole = false;
    this.entries.push([p, voter, name, s, timestampMs, messageId]);
  }

  /** The batch as stored; `selectionsJson` is the JSON array of its selections, in order. */
  json(selectionsJson: string): string {
    // Offsets from the first voted timestamp (a forgotten entry's is 0): small numbers.
    const first = this.whole ? this.entries.find((entry) => entry[3] >= 0) : undefined;
    const t = first ? first[4] : 0;
    if (t !== 0) for (const entry of this.entries) entry[4] -= t;
    const polls = JSON.stringify(this.polls);
    return `{"p":${polls},"t":${t},"s":${selectionsJson},"v":${JSON.stringify(this.entries)}}`;
  }
}

/** Votes written by a compaction, as batches of COMPACTED_BATCH. */
export class CompactedBatches {
  private batch = new BatchBuilder<string>();

  constructor(private readonly write: { run(json: string): unknown }) {}

  add(
    pollId: string,
    voter: string,
    name: string | null,
    selection: string,
    timestampMs: number,
    messageId: string | null,
  ): void {
    this.batch.add(pollId, voter, name, selection, timestampMs, messageId);
    if (this.batch.size >= COMPACTED_BATCH) this.end();
  }

  /** Writes what is gathered as one batch. */
  end(): void {
    if (this.batch.size === 0) return;
    this.write.run(this.batch.json(`[${this.batch.selections.join(',')}]`));
    this.batch = new BatchBuilder();
  }
}

/** Votes per batch that a compaction writes. */
const COMPACTED_BATCH = 1_000;
