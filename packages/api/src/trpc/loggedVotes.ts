import { type PollOption, type PollVotes, plainJson, type VoteChange } from '@pollmasters/shared';

/** What a `votes` event says of one poll, but its changes (rows of the batch's columns). */
interface Part {
  pollId: string;
  chatId: string;
  version: number;
  voterCount: number;
  unknownOptionVotes: number;
  /** The poll's options, the names and hashes of its counts (`OptionedVotes`). */
  options: readonly PollOption[];
  /** Its counts: `options.length` numbers from `countsAt` in the columns' `counts`. */
  countsAt: number;
  /** Its changes: rows `start` to `end` (exclusive) of the columns. */
  start: number;
  end: number;
}

/**
 * One poll's part of a `votes` event, with the poll's options: the names and hashes of its
 * counts, in their order. Their array is the read model's, one per poll, so the events of a
 * poll share it and nothing of a poll is kept after the read model and the log let it go.
 */
export type OptionedVotes = Readonly<PollVotes> & { readonly options: readonly PollOption[] };

/** The changes of a batch in columns, in the event's order (its polls' rows one after another). */
interface Columns {
  voters: string[];
  names: (string | undefined)[];
  selected: (readonly string[])[];
  /** Per change: unknownHashes, timestampMs, version. */
  numbers: Float64Array;
  /** The parts' counts, one after another. */
  counts: number[];
}

/**
 * A `votes` event of `polls.updates` as the event log keeps it: its changes in columns, not
 * as objects. Kept as objects (a VoteChange per vote, its counts per poll) the log's last
 * 50,000 changes were promoted to the old generation and collected from there; in columns a
 * change is its strings (already kept by the read model) and three numbers
 * (docs/performance.md, "Session 9").
 *
 * It reads as the event it stands for: `type` and `polls` (materialised when read, a fresh
 * copy each time) are its own enumerable properties, and `JSON.stringify` of it is the event's
 * JSON (`toJSON`: objects made from the columns, with their properties in the order the
 * changes cross the channel in, voteBatch.ts `unpackVotes`), so every path sends the same
 * bytes as before. The transformer takes it unwalked (`plainJson`).
 */
export class LoggedVotes {
  readonly type = 'votes' as const;
  declare readonly polls: PollVotes[];
  readonly #parts: readonly Part[];
  readonly #columns: Columns;

  private constructor(parts: readonly Part[], columns: Columns) {
    Object.defineProperty(this, 'polls', {
      enumerable: true,
      get: (): PollVotes[] => this.#materialise(),
    });
    this.#parts = parts;
    this.#columns = columns;
    plainJson(this);
  }

  /** The event of these polls' changes and counts. */
  static of(polls: readonly OptionedVotes[]): LoggedVotes {
    let rows = 0;
    for (const p of polls) rows += p.changes.length;
    const columns: Columns = {
      voters: new Array(rows),
      names: new Array(rows),
      selected: new Array(rows),
      numbers: new Float64Array(rows * 3),
      counts: [],
    };
    const parts: Part[] = [];
    let row = 0;
    for (const p of polls) {
      const start = row;
      const countsAt = columns.counts.length;
      for (const c of p.counts) columns.counts.push(c.count);
      for (let i = 0; i < p.changes.length; i++, row++) {
        const c: VoteChange = p.changes[i]!;
        columns.voters[row] = c.voter;
        columns.names[row] = c.name;
        columns.selected[row] = c.selected;
        columns.numbers[3 * row] = c.unknownHashes;
        columns.numbers[3 * row + 1] = c.timestampMs;
        columns.numbers[3 * row + 2] = c.version;
      }
      parts.push({
        pollId: p.pollId,
        chatId: p.chatId,
        version: p.version,
        voterCount: p.voterCount,
        unknownOptionVotes: p.unknownOptionVotes,
        options: p.options,
        countsAt,
        start,
        end: row,
      });
    }
    return new LoggedVotes(parts, columns);
  }

  /** Vote changes it holds, over all its polls (what the event log weighs it by). */
  get changeCount(): number {
    let n = 0;
    for (const p of this.#parts) n += p.end - p.start;
    return n;
  }

  /** The event narrowed to one of its polls (itself when that is its only poll), or null. */
  forPoll(pollId: string): LoggedVotes | null {
    const part = this.#parts.find((p) => p.pollId === pollId);
    if (!part) return null;
    return this.#parts.length === 1 ? this : new LoggedVotes([part], this.#columns);
  }

  toJSON(): { type: 'votes'; polls: PollVotes[] } {
    return { type: 'votes', polls: this.#materialise() };
  }

  /** The polls as objects, each property where the event object had it (and so in its JSON). */
  #materialise(): PollVotes[] {
    const { voters, names, selected, numbers, counts } = this.#columns;
    return this.#parts.map((p) => {
      const changes: VoteChange[] = new Array(p.end - p.start);
      for (let row = p.start; row < p.end; row++) {
        const change: VoteChange = {
          pollId: p.pollId,
          voter: voters[row]!,
          selected: selected[row]!,
          unknownHashes: numbers[3 * row]!,
          timestampMs: numbers[3 * row + 1]!,
          version: numbers[3 * row + 2]!,
        };
        const name = names[row];
        if (name !== undefined) change.name = name;
        changes[row - p.start] = change;
      }
      return {
        pollId: p.pollId,
        chatId: p.chatId,
        version: p.version,
        changes,
        counts: p.options.map((o, i) => ({
          name: o.name,
          hash: o.hash,
          count: counts[p.countsAt + i]!,
        })),
        voterCount: p.voterCount,
        unknownOptionVotes: p.unknownOptionVotes,
      };
    });
  }
}
