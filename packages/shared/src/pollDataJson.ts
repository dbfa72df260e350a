import { optionHashesRecord } from './compat.js';
import { type Poll, tallyPoll } from './poll.js';

/**
 * A poll's compat JSON written straight from the poll, byte for byte what
 * `JSON.stringify(toPollData(poll))` gives (./compat.ts; pinned by a property test), without
 * building the voters record first: for a poll of 1,000 voters that record is most of the
 * work and most of the garbage of a GUI push. The small parts (options, hashes, results) still
 * go through `JSON.stringify`, so their key order (an option named "2" comes before "1b") and
 * escaping are JSON's own.
 */

/** A selection's JSON, made once per array: a poll's voters share one array per selection. */
const selectionJson = new WeakMap<readonly string[], string>();
const jsonOfSelection = (selected: readonly string[]): string => {
  let json = selectionJson.get(selected);
  if (json === undefined) {
    json = JSON.stringify(selected);
    // Only shared arrays are frozen (Selections); a one-off array is not worth remembering.
    if (Object.isFrozen(selected)) selectionJson.set(selected, json);
  }
  return json;
};

/** Characters a JSON string writes as they are: a JID made of them needs no escaping. */
const PLAIN = /^[0-9A-Za-z.:@_-]*$/;

/** Visits a poll's voters in its voter order: its `voters`, or a table of them. */
export type EachVoter = (each: (voter: string, selected: readonly string[]) => void) => void;

/**
 * `voters` as the contract writes it: voter JID -> selected hashes, in the poll's voter order.
 * Voter ids are JIDs (they hold an `@`), never array indices, so JSON keeps their order.
 * Appended to one string (V8 joins the pieces once, when the text is written out).
 */
const votersJsonOf = (eachVoter: EachVoter): string => {
  let out = '{';
  let comma = '';
  eachVoter((voter, selected) => {
    const key = PLAIN.test(voter) ? `"${voter}"` : JSON.stringify(voter);
    out += `${comma}${key}:${jsonOfSelection(selected)}`;
    comma = ',';
  });
  return `${out}}`;
};

/**
 * `JSON.stringify(pollUpdateToGui(poll))` from a poll's parts: its head, its results (option
 * name -> voters, as `tallyPoll` makes them) and its voters. For a state kept in columns
 * (the read model) that need not become a `Poll` first.
 */
export const pollUpdateJsonOf = (
  poll: Omit<Poll, 'voters'>,
  results: Record<string, number>,
  eachVoter: EachVoter,
): string => dataJson(poll, results, eachVoter, `{"pollMsgId":${JSON.stringify(poll.id)},`);

/**
 * The poll data's JSON after `opening` (`{`, or `{` and keys before the data's own): the
 * opening goes in front of the small head, not of the whole text, whose slice would copy a
 * poll's worth of voters once more.
 */
const dataJson = (
  poll: Omit<Poll, 'voters'>,
  results: Record<string, number>,
  eachVoter: EachVoter,
  opening = '{',
): string => {
  const head = JSON.stringify({
    question: poll.question,
    options: poll.options.map((o) => o.name),
    optionHashes: optionHashesRecord(poll.options),
    results,
  });
  const tail = JSON.stringify({
    chatId: poll.chatId,
    timestamp: poll.createdAt,
    selectableCount: poll.selectableCount,
  });
  return `${opening}${head.slice(1, -1)},"voters":${votersJsonOf(eachVoter)},${tail.slice(1)}`;
};

const eachOf =
  (voters: Poll['voters']): EachVoter =>
  (each) => {
    for (const { voter, selected } of voters) each(voter, selected);
  };

/** `JSON.stringify(toPollData(poll))`, built as text. */
export const pollDataJson = (poll: Poll): string =>
  dataJson(poll, tallyPoll(poll), eachOf(poll.voters));

/** `JSON.stringify(pollUpdateToGui(poll))`: `pollMsgId`, then the poll data. */
export const pollUpdateJson = (poll: Poll): string =>
  pollUpdateJsonOf(poll, tallyPoll(poll), eachOf(poll.voters));

/** Whether JSON (a JS object) orders this key before the others, as an array index. */
const isArrayIndex = (key: string): boolean =>
  /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 2 ** 32 - 1;

/**
 * The polls in the order `Object.fromEntries` would keep them as keys: array-index-like ids
 * first, ascending, then the others as given. (WhatsApp's message ids are not numbers; this
 * keeps the text equal to the object's JSON whatever they are.)
 */
const inKeyOrder = <T extends { readonly id: string }>(polls: readonly T[]): readonly T[] => {
  const indexed = polls.filter((p) => isArrayIndex(p.id));
  if (indexed.length === 0) return polls;
  indexed.sort((a, b) => Number(a.id) - Number(b.id));
  return [...indexed, ...polls.filter((p) => !isArrayIndex(p.id))];
};

/**
 * `JSON.stringify(allPollData(polls))` (pollMsgId -> poll data) in pieces, one poll at a time,
 * for an answer that is streamed instead of built whole: at most one poll's text is held at
 * once. A later poll with an id already given replaces it in the object, so only the last of
 * each id is written, where the first one stood. With `full`, the items are only what stands
 * for a poll (its id, say) and each full Poll is made by `full` just before its text, so no
 * more than one poll's voters need exist at a time.
 */
export function allPollDataJsonParts(polls: readonly Poll[]): Generator<string>;
export function allPollDataJsonParts<T extends { readonly id: string }>(
  polls: readonly T[],
  full: (item: T) => Poll,
): Generator<string>;
export function* allPollDataJsonParts(
  polls: readonly { readonly id: string }[],
  full: (item: { readonly id: string }) => Poll = (poll) => poll as Poll,
): Generator<string> {
  const last = new Map<string, { readonly id: string }>();
  for (const poll of polls) last.set(poll.id, poll);
  let first = true;
  yield '{';
  for (const item of inKeyOrder([...last.values()])) {
    yield `${first ? '' : ','}${JSON.stringify(item.id)}:${pollDataJson(full(item))}`;
    first = false;
  }
  yield '}';
}

/** `JSON.stringify(allPollData(polls))`, as one text. */
export const allPollDataJson = (polls: readonly Poll[]): string =>
  [...allPollDataJsonParts(polls)].join('');
