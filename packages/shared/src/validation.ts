import type { z } from 'zod';
import { errors } from './errors.js';

/** One readable line from zod issues: `options.2: options must not be empty; ...`. */
export const describeIssues = (
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): string =>
  issues
    .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');

/** Parses `value` or throws a BAD_INPUT PollMastersError that says what is wrong. */
export const parseInput = <S extends z.ZodType>(schema: S, value: unknown): z.output<S> => {
  const result = schema.safeParse(value);
  if (!result.success) throw errors.badInput(describeIssues(result.error.issues));
  return result.data;
};
