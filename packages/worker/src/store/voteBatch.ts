/*
 * A batch of the vote log as SQLite keeps it (./voteLog.ts, ./database.ts migration 5), and
 * the batches a compaction writes.
 */

/**
 * A batch as `vote_batches.votes` holds it (./database.ts, migration 5): the batch's distinct
 * selections, and per vote [poll id, voter, name, index into `s` (-1: forgotten), timestamp,
 * message id], in the order they happened.
 */
export interface Batch {
  s: (readonly string[])[];
  v: [string, string, string | null, number, number, string | null][];
}

/** Votes written by a compaction, as batches of COMPACTED_BATCH. */
export class CompactedBatches {
  /** The batch's distinct selections (JSON) and their index. */
  private selections = new Map<string, number>();
  private votes: Batch['v'] = [];

  constructor(private readonly write: { run(json: string): unknown }) {}

  add(
    pollId: string,
    voter: string,
    name: string | null,
    selection: string,
    timestampMs: number,
    messageId: string | null,
  ): void {
    let index = this.selections.get(selection);
    if (index === undefined) {
      index = this.selections.size;
      this.selections.set(selection, index);
    }
    this.votes.push([pollId, voter, name, index, timestampMs, messageId]);
    if (this.votes.length >= COMPACTED_BATCH) this.end();
  }

  /** Writes what is gathered as one batch. */
  end(): void {
    if (this.votes.length === 0) return;
    const s = [...this.selections.keys()].join(',');
    this.write.run(`{"s":[${s}],"v":${JSON.stringify(this.votes)}}`);
    this.selections = new Map();
    this.votes = [];
  }
}

/** Votes per batch that a compaction writes. */
const COMPACTED_BATCH = 1_000;
