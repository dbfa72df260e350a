import type { Poll } from '@pollmasters/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PollCoalescer } from '../src/compat/coalescer.js';

const poll = (id: string, version: number): Poll => ({
  id,
  chatId: '123@g.us',
  creator: { jid: '15550000001@s.whatsapp.net', fromMe: true },
  question: 'Q?',
  options: [],
  selectableCount: 1,
  createdAt: 1_700_000_000_000,
  voters: [],
  unknownOptionVotes: 0,
  version,
});

describe('PollCoalescer', () => {
  let emitted: Poll[];
  let coalescer: PollCoalescer;

  beforeEach(() => {
    vi.useFakeTimers();
    emitted = [];
    coalescer = new PollCoalescer(100, (p) => emitted.push(p));
  });
  afterEach(() => {
    coalescer.close();
    vi.useRealTimers();
  });

  it('pushes the first change at once and the rest of the interval once, at its end', () => {
    coalescer.push(poll('a', 1));
    expect(emitted.map((p) => p.version)).toEqual([1]);
    for (let v = 2; v <= 20; v++) coalescer.push(poll('a', v));
    expect(emitted).toHaveLength(1);
    vi.advanceTimersByTime(99);
    expect(emitted).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(emitted.map((p) => p.version)).toEqual([1, 20]);
  });

  it('emits at most once per poll per interval, and polls do not delay each other', () => {
    for (let i = 0; i < 1_000; i++) {
      coalescer.push(poll('a', i + 1));
      coalescer.push(poll('b', i + 1));
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(100);
    const a = emitted.filter((p) => p.id === 'a').map((p) => p.version);
    const b = emitted.filter((p) => p.id === 'b').map((p) => p.version);
    // 1000 ms of changes: the leading push plus one per 100 ms.
    expect(a.length).toBeLessThanOrEqual(11);
    expect(b.length).toBe(a.length);
    expect(a.at(-1)).toBe(1_000);
    expect(b.at(-1)).toBe(1_000);
  });

  it('never emits an older state after a newer one', () => {
    coalescer.push(poll('a', 5));
    coalescer.push(poll('a', 3));
    coalescer.push(poll('a', 5));
    vi.advanceTimersByTime(500);
    coalescer.push(poll('a', 4));
    coalescer.push(poll('a', 7));
    coalescer.push(poll('a', 6));
    vi.advanceTimersByTime(500);
    expect(emitted.map((p) => p.version)).toEqual([5, 7]);
  });

  it('drops what the clients already got another way', () => {
    coalescer.seen(poll('a', 0));
    coalescer.push(poll('a', 0));
    expect(emitted).toEqual([]);
    coalescer.push(poll('a', 1));
    coalescer.push(poll('a', 2));
    coalescer.seen(poll('a', 2));
    vi.advanceTimersByTime(500);
    expect(emitted.map((p) => p.version)).toEqual([1]);
  });

  it('refuses an interval that is not a positive number', () => {
    for (const ms of [0, -1, Number.NaN]) {
      expect(() => new PollCoalescer(ms, (p) => emitted.push(p))).toThrow(RangeError);
    }
  });

  it('shares one byte budget between polls, the longest-waiting first, and keeps each newest', () => {
    // 100 polls of 100 KB each, 1 MB/s: about 10 pushes a second in all, not 1,000.
    const sizes = new Map<string, number>();
    const budgeted = new PollCoalescer(
      100,
      (p) => {
        emitted.push(p);
        return sizes.get(p.id) ?? 0;
      },
      { bytesPerSec: 1_000_000 },
    );
    const ids = Array.from({ length: 100 }, (_, i) => `p${i}`);
    for (const id of ids) sizes.set(id, 100_000);
    for (let t = 1; t <= 2_000; t++) {
      for (const id of ids) budgeted.push(poll(id, t));
      vi.advanceTimersByTime(1);
    }
    // Two seconds: a second's worth at once (the bucket starts full), then two seconds' refill.
    expect(emitted.length).toBeGreaterThanOrEqual(28);
    expect(emitted.length).toBeLessThanOrEqual(32);
    // Polls take turns (none gets a second push before 30 others got one); none goes backwards.
    expect(new Set(emitted.map((p) => p.id)).size).toBe(emitted.length);
    for (const id of ids) {
      const versions = emitted.filter((p) => p.id === id).map((p) => p.version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    }
    // Quiet again: every poll ends with its newest state.
    vi.advanceTimersByTime(20_000);
    for (const id of ids) expect(emitted.filter((p) => p.id === id).at(-1)?.version).toBe(2_000);
    expect(budgeted.waiting).toBe(0);
    budgeted.close();
  });

  /**
   * 100 polls of 100 KB, each changed every millisecond for two seconds at 1 MB/s (the budget
   * spent), then nothing more; returns the polls whose final state went out so far.
   */
  const afterBurst = (quietBytesPerSec?: number) => {
    const budgeted = new PollCoalescer(
      100,
      (p) => {
        emitted.push(p);
        return 100_000;
      },
      { bytesPerSec: 1_000_000, ...(quietBytesPerSec ? { quietBytesPerSec } : {}) },
    );
    const ids = Array.from({ length: 100 }, (_, i) => `p${i}`);
    for (let t = 1; t <= 2_000; t++) {
      for (const id of ids) budgeted.push(poll(id, t));
      vi.advanceTimersByTime(1);
    }
    const newest = () =>
      ids.filter((id) => emitted.some((p) => p.id === id && p.version === 2_000));
    return { budgeted, newest };
  };

  it('once changes stop, pushes the final states at the quiet rate, still within a budget', () => {
    const { budgeted, newest } = afterBurst(4_000_000);
    // 10 MB of final states: at the busy rate (1 MB/s) that would take 10 s; quiet, 4 MB/s.
    vi.advanceTimersByTime(1_000);
    expect(newest().length).toBeLessThan(100);
    vi.advanceTimersByTime(2_000);
    expect(newest()).toHaveLength(100);
    budgeted.close();
  });

  it('refills sixteen times as fast when quiet, by default', () => {
    const { budgeted, newest } = afterBurst();
    // 10 MB at 16 MB/s, after a quiet interval: within a second (at 4x it would take 2.5 s).
    vi.advanceTimersByTime(1_000);
    expect(newest()).toHaveLength(100);
    budgeted.close();
  });

  /** A coalescer at 1 MB/s whose pushes cost 1.5 MB each: its first push leaves it 0.5 MB short. */
  const shortOfBudget = (intervalMs: number, quietBytesPerSec: number) => {
    const sent: string[] = [];
    const c = new PollCoalescer<Poll>(
      intervalMs,
      (p) => {
        sent.push(p.id);
        return 1_500_000;
      },
      { bytesPerSec: 1_000_000, quietBytesPerSec },
    );
    c.push(poll('a', 1));
    return { c, sent };
  };

  it('reckons a quiet pause before a change at the quiet rate', () => {
    const { c, sent } = shortOfBudget(100, 4_000_000);
    // Quiet from two intervals after the last change: 200 ms busy (+0.2 MB), 100 quiet (+0.4 MB).
    vi.advanceTimersByTime(300);
    c.push(poll('b', 1));
    expect(sent).toEqual(['a', 'b']);
    c.close();
  });

  it('does not take a pause of one interval in a burst for its end (a worker waiting for a core)', () => {
    const { c, sent } = shortOfBudget(50, 100_000_000);
    // 60 ms without a change: +0.06 MB at the busy rate (at the quiet rate after 50 ms it
    // would have been +1 MB, and 'b' would go at once).
    vi.advanceTimersByTime(60);
    c.push(poll('b', 1));
    expect(sent).toEqual(['a']);
    // Quiet from 100 ms after the last change: then the rest comes within milliseconds.
    vi.advanceTimersByTime(110);
    expect(sent).toEqual(['a', 'b']);
    c.close();
  });

  it('pushes a state again after the interval when asked to (busy clients), unless a newer one came', () => {
    coalescer.push(poll('a', 1));
    coalescer.retry(poll('a', 1));
    vi.advanceTimersByTime(100);
    expect(emitted.map((p) => p.version)).toEqual([1, 1]);
    // A newer state replaces the one to retry; a retry of an older one is ignored.
    coalescer.retry(poll('a', 1));
    coalescer.push(poll('a', 2));
    coalescer.retry(poll('a', 1));
    vi.advanceTimersByTime(100);
    expect(emitted.map((p) => p.version)).toEqual([1, 1, 2]);
    coalescer.retry(poll('a', 1));
    vi.advanceTimersByTime(500);
    expect(emitted.map((p) => p.version)).toEqual([1, 1, 2]);
  });

  it('pushes a state held back for busy clients as soon as they catch up (kick)', () => {
    coalescer.push(poll('a', 1));
    coalescer.retry(poll('a', 1));
    coalescer.push(poll('b', 1));
    vi.advanceTimersByTime(10);
    expect(emitted.map((p) => p.id)).toEqual(['a', 'b']);
    coalescer.kick();
    vi.advanceTimersByTime(0);
    // Only the held-back state goes again, long before its interval; nothing else moves.
    expect(emitted.map((p) => p.id)).toEqual(['a', 'b', 'a']);
    coalescer.kick();
    vi.advanceTimersByTime(500);
    expect(emitted.map((p) => p.id)).toEqual(['a', 'b', 'a']);
  });

  it('pushes a limited number of bytes in one go, the rest on the next turn', () => {
    const sent: string[] = [];
    const c = new PollCoalescer<Poll>(
      100,
      (p) => {
        sent.push(`${p.id}${p.version}`);
        return 100;
      },
      { bytesPerTurn: 150 },
    );
    for (const id of ['a', 'b', 'c']) c.push(poll(id, 1));
    for (const id of ['a', 'b', 'c']) c.push(poll(id, 2));
    expect(sent).toEqual(['a1', 'b1', 'c1']);
    vi.advanceTimersByTime(100);
    // All three are due; two go (200 bytes >= 150), the third waits for the next turn.
    expect(sent).toEqual(['a1', 'b1', 'c1', 'a2', 'b2']);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'c2']);
    c.close();
  });

  it('emits nothing after close', () => {
    coalescer.push(poll('a', 1));
    coalescer.push(poll('a', 2));
    coalescer.close();
    vi.advanceTimersByTime(500);
    coalescer.push(poll('a', 3));
    expect(emitted.map((p) => p.version)).toEqual([1]);
  });
});
