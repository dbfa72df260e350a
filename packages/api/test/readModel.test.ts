import { countVotes, type Poll, pollUpdateJson, type VoteChange } from '@pollmasters/shared';
import { optionHash } from '@pollmasters/shared/node';
import { describe, expect, it } from 'vitest';
import { PollReadModel } from '../src/session/readModel.js';

const OPTIONS = ['A', 'B', 'C'].map((name) => ({ name, hash: optionHash(name) }));
const poll = (id: string): Poll => ({
  id,
  chatId: '120363000000000001@g.us',
  creator: { jid: '15550000001@s.whatsapp.net', fromMe: true },
  question: 'Q?',
  options: OPTIONS,
  selectableCount: 0,
  createdAt: 1,
  voters: [],
  unknownOptionVotes: 0,
  version: 0,
});

describe('PollReadModel', () => {
  it('keeps counts incrementally, equal to a recount of the materialised poll after every batch', () => {
    const model = new PollReadModel();
    model.put(poll('p'));
    let version = 0;
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let batch = 0; batch < 50; batch++) {
      const changes: VoteChange[] = [];
      for (let i = 0; i < 40; i++) {
        // Some voters with a name, and JIDs that sort apart from how they arrive.
        const n = random(60);
        const selected = OPTIONS.filter(() => random(3) === 0).map((o) => o.hash);
        changes.push({
          pollId: 'p',
          voter: n % 5 === 0 ? `${n}"x@lid` : `1555${n}@s.whatsapp.net`,
          ...(n % 3 === 0 ? { name: `Voter ${n}` } : {}),
          // A hash of no option is kept out of the counts.
          selected: random(10) === 0 ? [...selected, 'f'.repeat(64)] : selected,
          unknownHashes: 0,
          timestampMs: batch,
          version: ++version,
        });
      }
      // A replayed change is ignored.
      changes.push({ ...changes[0]!, selected: [] });
      const update = model.apply(changes).get('p')!;
      expect(update.version).toBe(version);
      expect(update.changes).toHaveLength(40);
      const full = model.get('p')!;
      expect(update.counts).toEqual(countVotes(full));
      // The GUI's state, written from the columns, is the materialised poll's byte for byte.
      expect(update.guiJson()).toBe(pollUpdateJson(full));
      expect(update.voterCount).toBe(full.voters.length);
      expect(update.poll).toBe(full);
      expect(full.version).toBe(version);
    }
  });

  it('builds the full state only when read, and never an older one', () => {
    const model = new PollReadModel();
    model.put(poll('p'));
    const change = (voter: string, version: number): VoteChange => ({
      pollId: 'p',
      voter,
      selected: [OPTIONS[0]!.hash],
      unknownHashes: 1,
      timestampMs: version,
      version,
    });
    const first = model.apply([change('1@s.whatsapp.net', 1)]).get('p')!;
    const second = model.apply([change('2@s.whatsapp.net', 2)]).get('p')!;
    expect(first.counts[0]!.count).toBe(1);
    expect(second.counts[0]!.count).toBe(2);
    expect(second.unknownOptionVotes).toBe(2);
    // Read late, the first update gives the newest state.
    expect(first.poll.version).toBe(2);
    expect(first.poll.voters.map((v) => v.voter)).toEqual(['1@s.whatsapp.net', '2@s.whatsapp.net']);
  });

  it('keeps one shared, frozen selection array per selection, for voters and for the changes it passes on', () => {
    const model = new PollReadModel();
    const A = OPTIONS[0]!.hash;
    const B = OPTIONS[1]!.hash;
    // A snapshot whose voters each came with their own arrays (as cloned from the worker).
    const kept = model.put({
      ...poll('p'),
      version: 2,
      voters: [
        { voter: '1@s.whatsapp.net', selected: [A, B], timestampMs: 1 },
        { voter: '2@s.whatsapp.net', selected: [`${A}`, `${B}`], timestampMs: 2 },
      ],
    });
    expect(kept.voters[0]!.selected).toBe(kept.voters[1]!.selected);
    expect(Object.isFrozen(kept.voters[0]!.selected)).toBe(true);

    const update = model
      .apply([
        {
          pollId: 'p',
          voter: '3@s.whatsapp.net',
          selected: [A, B],
          unknownHashes: 0,
          timestampMs: 3,
          version: 3,
        },
      ])
      .get('p')!;
    expect(update.changes[0]!.selected).toBe(kept.voters[0]!.selected);
    expect(update.poll.voters.map((v) => v.selected)).toEqual([
      [A, B],
      [A, B],
      [A, B],
    ]);
    expect(new Set(update.poll.voters.map((v) => v.selected)).size).toBe(1);
    expect(update.counts.map((c) => c.count)).toEqual([3, 3, 0]);
  });

  it('gives every poll without its voters, newest first, in the order of a full list', () => {
    const model = new PollReadModel();
    const stamps = [5, 9, 1, 9, 3];
    stamps.forEach((createdAt, n) => {
      const voters = [
        { voter: `${n}@s.whatsapp.net`, selected: [OPTIONS[0]!.hash], timestampMs: 1 },
      ];
      model.put({ ...poll(`p${n}`), createdAt, voters });
    });
    const heads = model.heads();
    expect(heads.map((h) => h.id)).toEqual(model.list().map((p) => p.id));
    expect(heads.map((h) => h.createdAt)).toEqual([9, 9, 5, 3, 1]);
    for (const head of heads) expect(head).not.toHaveProperty('voters');
  });
});
