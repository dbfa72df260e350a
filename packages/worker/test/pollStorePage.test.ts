import { optionHash } from '@pollmasters/shared';
import { expect, it } from 'vitest';
import { openDatabase } from '../src/store/database.js';
import { PollStore } from '../src/store/pollStore.js';
import { GROUP, OPTIONS, tempDirs } from './fixtures.js';

const tempDir = tempDirs('pollmasters-pollpage-');
const options = OPTIONS.map((name) => ({ name, hash: optionHash(name) }));

/** Polls P00..P11, poll n with n voters, stored and replayed as a start opens them. */
const storeWithPolls = () => {
  const dir = tempDir();
  const first = new PollStore(openDatabase(dir, 'test'));
  for (let n = 0; n < 12; n++) {
    const id = `P${String(n).padStart(2, '0')}`;
    first.add({
      id,
      chatId: GROUP,
      creator: { jid: '', fromMe: true },
      question: `Poll ${n}`,
      options,
      selectableCount: 1,
      createdAt: 1_700_000_000_000 + n,
      secret: new Uint8Array(32),
      creatorJids: [],
      message: new Uint8Array([1]),
    });
    for (let v = 0; v < n; v++) {
      first.applyVote(
        id,
        {
          voter: `${v}@s.whatsapp.net`,
          name: undefined,
          selected: [options[v % options.length]!.hash],
          timestampMs: 1_700_000_000_000 + v,
          messageId: `M${n}-${v}`,
        },
        0,
      );
    }
  }
  first.flush();
  return { dir, polls: new PollStore(openDatabase(dir, 'test')) };
};

it('hands out its polls a page at a time, by id, each once, ending at the voter budget', () => {
  const { polls } = storeWithPolls();
  const pages: string[][] = [];
  let after: string | null = null;
  do {
    const page = polls.page(after, 20);
    pages.push(page.polls.map((p) => p.id));
    // Every poll whole, as `all()` shows it.
    for (const p of page.polls) expect(p).toEqual(polls.all().find((q) => q.id === p.id));
    after = page.next;
  } while (after !== null);
  // Voters 0+1+...+6 = 21 >= 20 ends the first page; then 7+8+9 = 24; then 10+11.
  expect(pages).toEqual([
    ['P00', 'P01', 'P02', 'P03', 'P04', 'P05', 'P06'],
    ['P07', 'P08', 'P09'],
    ['P10', 'P11'],
  ]);
  // A poll bigger than the budget comes alone; after the last poll there is nothing.
  expect(polls.page('P10', 5)).toMatchObject({ next: null });
  expect(polls.page('P09', 5).polls.map((p) => p.id)).toEqual(['P10']);
  expect(polls.page('P11', 5)).toEqual({ polls: [], next: null });
});
