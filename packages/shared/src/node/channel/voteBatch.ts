import { z } from 'zod';
import { OptionHash, type VoteChange } from '../../poll.js';

/**
 * A batch of vote changes as it crosses the worker channel: columns instead of one object per
 * change. A structured clone copies each object property by property, and zod then checks
 * every object again, which cost the worker 1 us and the API 3.8 us per vote; as columns (the
 * batch's polls and distinct selections once, a voter and a name per change, the numbers in
 * one Float64Array) it costs 0.36 and 0.5 us (docs/performance.md). The worker packs in
 * `ChannelServer.emit`; the API's parse checks the columns and unpacks them, so both sides
 * see `VoteChange[]`.
 */

/** Numbers per change in `numbers`: poll index, selection index, unknownHashes, timestampMs, version. */
const NUMBERS = 5;

const Columns = z.object({
  pollIds: z.array(z.string()),
  selections: z.array(z.array(OptionHash).readonly()),
  voters: z.array(z.string()).min(1),
  names: z.array(z.string().nullable()),
  numbers: z.instanceof(Float64Array),
});
type Columns = z.output<typeof Columns>;

export const PackedVotes = Columns.superRefine((batch, ctx) => {
  const problem = columnsProblem(batch);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
}).transform(unpackVotes);
export type PackedVotes = z.input<typeof PackedVotes>;

/** Changes as columns, in their order (see `PackedVotes`). */
export function packVotes(changes: readonly VoteChange[]): PackedVotes {
  const pollIds: string[] = [];
  const pollIndex = new Map<string, number>();
  const selections: (readonly string[])[] = [];
  // A poll's voters share one array per selection (`Selections`): most changes find theirs.
  const selectionIndex = new Map<readonly string[], number>();
  const voters: string[] = new Array(changes.length);
  const names: (string | null)[] = new Array(changes.length);
  const numbers = new Float64Array(changes.length * NUMBERS);
  for (let k = 0; k < changes.length; k++) {
    const c = changes[k]!;
    let p = pollIndex.get(c.pollId);
    if (p === undefined) {
      p = pollIds.push(c.pollId) - 1;
      pollIndex.set(c.pollId, p);
    }
    let s = selectionIndex.get(c.selected);
    if (s === undefined) {
      s = selections.push(c.selected) - 1;
      selectionIndex.set(c.selected, s);
    }
    voters[k] = c.voter;
    names[k] = c.name ?? null;
    const at = k * NUMBERS;
    numbers[at] = p;
    numbers[at + 1] = s;
    numbers[at + 2] = c.unknownHashes;
    numbers[at + 3] = c.timestampMs;
    numbers[at + 4] = c.version;
  }
  return { pollIds, selections, voters, names, numbers };
}

const isIndex = (n: number, length: number) => Number.isInteger(n) && n >= 0 && n < length;
const isCount = (n: number) => Number.isInteger(n) && n >= 0;

/** Why the columns do not make a batch of changes; null when they do. */
function columnsProblem(b: Columns): string | null {
  const n = b.voters.length;
  if (b.names.length !== n) return 'names must hold one entry per voter';
  if (b.numbers.length !== n * NUMBERS) return `numbers must hold ${NUMBERS} per voter`;
  for (let at = 0; at < b.numbers.length; at += NUMBERS) {
    if (!isIndex(b.numbers[at]!, b.pollIds.length)) return 'a poll index is out of range';
    if (!isIndex(b.numbers[at + 1]!, b.selections.length))
      return 'a selection index is out of range';
    if (!isCount(b.numbers[at + 2]!)) return 'unknownHashes must be a whole number >= 0';
    if (!Number.isFinite(b.numbers[at + 3]!)) return 'timestampMs must be a number';
    if (!isCount(b.numbers[at + 4]!)) return 'version must be a whole number >= 0';
  }
  return null;
}

/** The changes that checked columns hold, as `VoteChange`s (sharing the batch's strings). */
function unpackVotes(b: Columns): VoteChange[] {
  const changes: VoteChange[] = new Array(b.voters.length);
  for (let k = 0; k < b.voters.length; k++) {
    const at = k * NUMBERS;
    const change: VoteChange = {
      pollId: b.pollIds[b.numbers[at]!]!,
      voter: b.voters[k]!,
      selected: b.selections[b.numbers[at + 1]!]!,
      unknownHashes: b.numbers[at + 2]!,
      timestampMs: b.numbers[at + 3]!,
      version: b.numbers[at + 4]!,
    };
    const name = b.names[k];
    if (name !== null && name !== undefined) change.name = name;
    changes[k] = change;
  }
  return changes;
}
