import { errors, Limits, newestFirst, type Poll, type PollListInput } from '@pollmasters/shared';

/** Where a poll stands in the list (newest first, ties by id): what a cursor names. */
type Position = Pick<Poll, 'createdAt' | 'id'>;

/** A page's `nextCursor`: the position of its last poll (opaque to clients). */
export const cursorOf = (p: Position): string => `${p.createdAt}:${p.id}`;

/** The position a cursor names. @throws BAD_INPUT for anything `cursorOf` did not make */
const positionOf = (cursor: string): Position => {
  const colon = cursor.indexOf(':');
  const createdAt = Number(cursor.slice(0, colon));
  if (colon <= 0 || !Number.isFinite(createdAt) || colon === cursor.length - 1) {
    throw errors.badInput('cursor: not a cursor of polls.list (pass nextCursor as it came)');
  }
  return { createdAt, id: cursor.slice(colon + 1) };
};

/** `polls.list`'s cursor and limit (the shared input's): from the newest poll without one. */
export type PageRequest = Pick<NonNullable<PollListInput>, 'cursor' | 'limit'>;

/**
 * One page of `items` (in any order): those after the cursor, newest first, at most `limit`,
 * and no more once they hold `Limits.pollPageMaxVoters` voters (but always one, if any is
 * left). Polls created after the first page was read are not in later pages; a poll deleted
 * meanwhile just does not appear.
 */
export const pageOf = <T extends Position>(
  items: Iterable<T>,
  { cursor, limit = Limits.pollPageDefault }: PageRequest,
  votersOf: (item: T) => number,
): { items: T[]; nextCursor: string | null } => {
  const after = cursor ? positionOf(cursor) : null;
  const left: T[] = [];
  for (const item of items) if (!after || newestFirst(after, item) < 0) left.push(item);
  left.sort(newestFirst);
  const page: T[] = [];
  let voters = 0;
  for (const item of left) {
    if (page.length >= limit || (page.length > 0 && voters >= Limits.pollPageMaxVoters)) break;
    page.push(item);
    voters += votersOf(item);
  }
  const last = page.at(-1);
  return { items: page, nextCursor: last && page.length < left.length ? cursorOf(last) : null };
};
