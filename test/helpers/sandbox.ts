import type { Poll } from '@pollmasters/shared';

export { SandboxProbe } from '@pollmasters/worker/sandbox';

/** A poll's voters as the sandbox's expectation: voter id -> option names, in option order. */
export const votersByName = (poll: Poll): Record<string, string[]> => {
  const names = new Map(poll.options.map((o) => [o.hash, o.name]));
  return Object.fromEntries(
    poll.voters.map((v) => [v.voter, v.selected.map((h) => names.get(h) ?? h)]),
  );
};

/** The expectation in the same order as `votersByName`: voters by id, options in poll order. */
export const normalizeExpected = (
  poll: Poll,
  expected: Record<string, string[]>,
): Record<string, string[]> =>
  Object.fromEntries(
    Object.entries(expected)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([voter, chosen]) => [
        voter,
        poll.options.filter((o) => chosen.includes(o.name)).map((o) => o.name),
      ]),
  );
