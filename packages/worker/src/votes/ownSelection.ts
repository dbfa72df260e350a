import { errors, type PollOption } from '@pollmasters/shared';

const HEX_HASH = /^[0-9a-fA-F]{64}$/;

/**
 * The option hashes the account votes for, from the options as a caller named them (exact
 * texts or hashes, mixed; see `VoteOptions`), in the poll's option order. Throws BAD_INPUT,
 * naming every problem, for an option not in the poll, an option given twice, or more
 * options than the poll's `selectableCount` allows (0 = any number). An empty list is a
 * withdrawal and returns no hashes.
 */
export const resolveSelection = (
  poll: { options: readonly PollOption[]; selectableCount: number },
  given: readonly string[],
): string[] => {
  const chosen = new Set<string>();
  const unknown: string[] = [];
  const twice: string[] = [];
  for (const entry of given) {
    const option =
      poll.options.find((o) => o.name === entry) ??
      (HEX_HASH.test(entry) ? poll.options.find((o) => o.hash === entry.toLowerCase()) : undefined);
    if (!option) unknown.push(entry);
    else if (chosen.has(option.hash)) twice.push(option.name);
    else chosen.add(option.hash);
  }
  const problems: string[] = [];
  if (unknown.length) {
    problems.push(
      `not an option of this poll: ${unknown.map((u) => JSON.stringify(u)).join(', ')} (its options: ${poll.options.map((o) => JSON.stringify(o.name)).join(', ')})`,
    );
  }
  if (twice.length) {
    problems.push(`given more than once: ${twice.map((t) => JSON.stringify(t)).join(', ')}`);
  }
  if (poll.selectableCount > 0 && given.length > poll.selectableCount) {
    problems.push(
      `this poll allows at most ${poll.selectableCount} option${poll.selectableCount === 1 ? '' : 's'} per vote; got ${given.length}`,
    );
  }
  if (problems.length) throw errors.badInput(problems.join('; '));
  return poll.options
    .map((o) => o.hash)
    .filter((hash, i, all) => chosen.has(hash) && all.indexOf(hash) === i);
};
