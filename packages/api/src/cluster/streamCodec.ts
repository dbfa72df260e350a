import type { VoteChange } from '@pollmasters/shared';
import { errors } from '@pollmasters/shared';
import { packVotes } from '@pollmasters/shared/node';
import { SessionReport } from '../session/sessionReport.js';

/** Numbers per change in packed votes: poll index, selection index, unknownHashes, timestampMs, version. */
const NUMBERS = 5;

/**
 * A session's report as a stream entry's text: JSON, with a batch of votes in the worker
 * channel's columns (../../../shared/src/node/channel/voteBatch.ts: the batch's polls and
 * distinct selections once, a voter, a name and five numbers per change) instead of an object
 * per vote, its times relative to the batch's first (`t0`) and each version relative to the one
 * before it in the same poll (mostly `1`). Votes are the hot path: about 55 bytes a vote, and
 * about a microsecond to encode and decode (checked) each (test: cluster-stream.test.ts).
 */
export const encodeReport = (report: SessionReport): string => {
  if (report.type !== 'votes') return JSON.stringify(report);
  const packed = packVotes(sharedSelections(report.changes));
  const numbers = Array.from(packed.numbers);
  const t0 = numbers[3] ?? 0;
  const lastVersion = new Map<number, number>();
  for (let at = 0; at < numbers.length; at += NUMBERS) {
    numbers[at + 3]! -= t0;
    const poll = numbers[at]!;
    const version = numbers[at + 4]!;
    const before = lastVersion.get(poll);
    lastVersion.set(poll, version);
    if (before !== undefined) numbers[at + 4] = version - before;
  }
  return JSON.stringify({ type: 'votes', changes: { ...packed, numbers }, t0 });
};

/**
 * The report a stream entry holds, checked as the worker channel checks its events.
 * @throws INVALID_MESSAGE for text that is not a report
 */
export const decodeReport = (text: string): SessionReport => {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw errors.invalidMessage('a stream entry is not JSON');
  }
  if (isPackedVotes(raw)) raw = unpackNumbers(raw);
  const parsed = SessionReport.safeParse(raw);
  if (!parsed.success) {
    throw errors.invalidMessage(
      `a stream entry is not a report: ${parsed.error.issues[0]?.message}`,
    );
  }
  return parsed.data;
};

/** Changes whose equal selections are one array: packed once, however the batch made them. */
const sharedSelections = (changes: readonly VoteChange[]): VoteChange[] => {
  const byText = new Map<string, readonly string[]>();
  return changes.map((change) => {
    const key = change.selected.join(',');
    const known = byText.get(key);
    if (!known) {
      byText.set(key, change.selected);
      return change;
    }
    return known === change.selected ? change : { ...change, selected: known };
  });
};

interface PackedText {
  type: 'votes';
  changes: { numbers: unknown[] };
  t0: unknown;
}

const isPackedVotes = (raw: unknown): raw is PackedText => {
  const r = raw as Partial<PackedText> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    r.type === 'votes' &&
    typeof r.changes === 'object' &&
    r.changes !== null &&
    Array.isArray(r.changes.numbers)
  );
};

/** The columns' numbers as the channel has them: absolute times and versions, a Float64Array. */
const unpackNumbers = ({ type, changes, t0 }: PackedText) => {
  // Anything but numbers becomes NaN, which the columns' check refuses.
  const numbers = Float64Array.from(changes.numbers, (n) => (typeof n === 'number' ? n : NaN));
  const base = typeof t0 === 'number' ? t0 : NaN;
  const lastVersion = new Map<number, number>();
  for (let at = 0; at < numbers.length; at += NUMBERS) {
    numbers[at + 3]! += base;
    const poll = numbers[at]!;
    const before = lastVersion.get(poll);
    if (before !== undefined) numbers[at + 4]! += before;
    lastVersion.set(poll, numbers[at + 4]!);
  }
  return { type, changes: { ...changes, numbers } };
};
