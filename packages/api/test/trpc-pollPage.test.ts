import { Limits, type Poll } from '@pollmasters/shared';
import { optionHash } from '@pollmasters/shared/node';
import { expect, it } from 'vitest';
import { PollReadModel } from '../src/session/readModel.js';
import { appRouter } from '../src/trpc/router.js';
import { FakeSession } from './fakeSession.js';
import { routerContext } from './routerContext.js';

const options = ['Yes', 'No'].map((name) => ({ name, hash: optionHash(name) }));

/** Poll `n` with `voters` voters; polls 2k and 2k+1 share a creation time (ties go by id). */
const pollOf = (n: number, voters: number): Poll => ({
  id: `3EB0P${String(n).padStart(3, '0')}`,
  chatId: '1-2@g.us',
  creator: { jid: '1@s.whatsapp.net', fromMe: true },
  question: `Poll ${n}`,
  options,
  selectableCount: 1,
  createdAt: 1_700_000_000_000 + Math.floor(n / 2),
  voters: Array.from({ length: voters }, (_, i) => ({
    voter: `${i}@s.whatsapp.net`,
    selected: [options[i % 2]!.hash],
    timestampMs: 1,
  })),
  unknownOptionVotes: 0,
  version: voters,
});

/** The router over the real read model (as SessionService serves `polls.list`). */
const setup = (polls: Poll[]) => {
  const model = new PollReadModel();
  model.reset(polls);
  const session = Object.assign(new FakeSession(), {
    pollPage: model.page.bind(model),
  });
  return { model, caller: appRouter.createCaller(routerContext(session)) };
};

const readAll = async (caller: ReturnType<typeof setup>['caller'], limit?: number) => {
  const pages: Poll[][] = [];
  let cursor: string | null = null;
  do {
    const page = await caller.polls.list({ cursor, ...(limit ? { limit } : {}) });
    pages.push(page.polls);
    cursor = page.nextCursor;
  } while (cursor !== null && pages.length < 1_000);
  return pages;
};

it('pages polls.list newest first with a cursor: every poll once, in order', async () => {
  const polls = Array.from({ length: 45 }, (_, n) => pollOf(n, n % 5));
  const { caller, model } = setup(polls);
  const pages = await readAll(caller, 10);
  expect(pages.map((p) => p.length)).toEqual([10, 10, 10, 10, 5]);
  // The whole list, as one read would give it (newest first, ties by id).
  expect(pages.flat()).toEqual(model.list());
  expect(new Set(pages.flat().map((p) => p.id)).size).toBe(45);
  // Without a limit: the default page size.
  const first = await caller.polls.list();
  expect(first.polls).toHaveLength(Limits.pollPageDefault);
  expect(first.nextCursor).not.toBeNull();
});

it('ends a page once it holds 10,000 voters, so that no answer holds a big account whole', async () => {
  const polls = Array.from({ length: 9 }, (_, n) => pollOf(n, 3_000));
  const { caller } = setup(polls);
  const pages = await readAll(caller, 100);
  // 3,000 + 3,000 + 3,000 + 3,000 reaches 10,000: four polls, then the rest.
  expect(pages.map((p) => p.length)).toEqual([4, 4, 1]);
  // A single poll bigger than the budget still comes, alone.
  const { caller: one } = setup([pollOf(2, 12_000), pollOf(0, 1)]);
  expect((await readAll(one)).map((p) => p.map((q) => q.voters.length))).toEqual([[12_000], [1]]);
});

it('keeps its place when polls arrive between pages, and refuses a cursor it did not make', async () => {
  const { caller, model } = setup(Array.from({ length: 6 }, (_, n) => pollOf(n, 1)));
  const before = model.list().map((p) => p.id);
  const first = await caller.polls.list({ limit: 3 });
  model.put(pollOf(100, 1)); // newer than everything: belongs before the first page
  const second = await caller.polls.list({ limit: 3, cursor: first.nextCursor });
  expect([...first.polls, ...second.polls].map((p) => p.id)).toEqual(before);
  expect(second.nextCursor).toBeNull();
  for (const cursor of ['nonsense', ':3EB0', '12:', 'x:y']) {
    await expect(caller.polls.list({ cursor })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  }
  await expect(caller.polls.list({ limit: 101 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  await expect(caller.polls.list({ limit: 0 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
});
