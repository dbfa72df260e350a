import type { AppRouter } from '@pollmasters/api/router';
import type { Poll } from '@pollmasters/shared';
import type { TRPCClient } from '@trpc/client';

/** What `pollPages` and `listAllPolls` read: the session (default `default`), the page size. */
export interface PollPagesOptions {
  sessionId?: string;
  /** Polls per page (1-100; the server's default is 20, and a page ends at 10,000 voters). */
  limit?: number;
}

/**
 * Every poll, newest first, a page at a time (`polls.list` with each page's `nextCursor`): a
 * large account is read without one answer holding all of it, on the server or here.
 * @example
 * ```ts
 * for await (const polls of pollPages(client)) for (const p of polls) console.log(p.question);
 * ```
 */
export async function* pollPages(
  client: Pick<TRPCClient<AppRouter>, 'polls'>,
  { sessionId, limit }: PollPagesOptions = {},
): AsyncGenerator<Poll[]> {
  let cursor: string | null = null;
  do {
    const page = await client.polls.list.query({
      ...(sessionId === undefined ? {} : { sessionId }),
      ...(limit === undefined ? {} : { limit }),
      cursor,
    });
    yield page.polls;
    cursor = page.nextCursor;
  } while (cursor !== null);
}

/** Every poll in one array, newest first, read page by page (see `pollPages`). */
export const listAllPolls = async (
  client: Pick<TRPCClient<AppRouter>, 'polls'>,
  options: PollPagesOptions = {},
): Promise<Poll[]> => {
  const all: Poll[] = [];
  for await (const polls of pollPages(client, options)) all.push(...polls);
  return all;
};
