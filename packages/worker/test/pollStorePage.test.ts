import { optionHash } from '@pollmasters/shared/node';
import { expect, it } from 'vitest';
import { openDatabase } from '../src/store/database.js';
import { PollStore } from '../src/store/pollStore.js';
import { GROUP, OPTIONS, tempDirs } from './fixtures.js';

const tempDir = tempDirs('pollmasters-pollpage-');
const options = OPTIONS.map((name) => ({ name, hash: optionHash(name) }));

/** Polls P00..P11, poll n with n voters, stored and replayed as a start opens them. */
const storeWithPolls = () => {
  const dir = tempDir();
  const first = PollStore.sqlite(openDatabase(dir, 'test'));
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
  return { dir, polls: PollStore.sqlite(openDatabase(dir, 'test')) };
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

it('replays a vote log of many chunks to the state it was written from', () => {
  const dir = tempDir();
  const first = PollStore.sqlite(openDatabase(dir, 'test'));
  for (const id of ['A', 'B']) {
    first.add({
      id,
      chatId: GROUP,
      creator: { jid: '', fromMe: true },
      question: id,
      options,
      selectableCount: 0,
      createdAt: 1_700_000_000_000,
      secret: null,
      creatorJids: [],
      message: new Uint8Array([1]),
    });
  }
  // 6,000 voters a poll, then a third of them change their vote: 16,000 rows.
  for (const round of [0, 1]) {
    for (let v = 0; v < 6_000; v++) {
      if (round === 1 && v % 3 !== 0) continue;
      for (const id of ['A', 'B']) {
        first.applyVote(
          id,
          {
            voter: `${v}@lid`,
            name: round === 0 ? `Voter ${v}` : undefined,
            selected: options.slice(0, 1 + ((v + round) % options.length)).map((o) => o.hash),
            timestampMs: 1_700_000_000_000 + round * 10_000 + v,
            messageId: `M${round}-${v}`,
          },
          0,
        );
      }
    }
    first.flush();
  }
  const again = PollStore.sqlite(openDatabase(dir, 'test'));
  expect(again.all()).toEqual(first.all());
  expect(again.get('A')!.voters.get('3@lid')).toMatchObject({ name: 'Voter 3' });
});
