import type { EventLoopUtilization } from 'node:perf_hooks';
import { expect, it } from 'vitest';
import { PollCoalescer } from '../src/compat/coalescer.js';
import { loadAwareBudget } from '../src/compat/pushBudget.js';

/** A fake event loop: `busyMs` and `idleMs` grow as the test says. */
const fakeLoop = () => {
  const loop = { at: 0, busyMs: 0, idleMs: 0 };
  const utilization = (now?: EventLoopUtilization, before?: EventLoopUtilization) => {
    if (now && before) {
      const active = now.active - before.active;
      const idle = now.idle - before.idle;
      return { active, idle, utilization: active / (active + idle) };
    }
    return { active: loop.busyMs, idle: loop.idleMs, utilization: 0 };
  };
  const pass = (ms: number, busyShare: number) => {
    loop.at += ms;
    loop.busyMs += ms * busyShare;
    loop.idleMs += ms * (1 - busyShare);
  };
  return { loop, utilization, pass };
};

it('gives pushes the idle budget while the loop has time, the busy one while it is busy', () => {
  const { loop, utilization, pass } = fakeLoop();
  const budget = loadAwareBudget({
    idleBytesPerSec: 12,
    busyBytesPerSec: 4,
    utilization,
    now: () => loop.at,
  });
  expect(budget()).toBe(12);
  pass(250, 0.2);
  expect(budget()).toBe(12);
  pass(250, 0.9); // votes flood in: the loop is busy
  expect(budget()).toBe(4);
  pass(100, 0); // within the window: the last verdict holds
  expect(budget()).toBe(4);
  pass(200, 0.1);
  expect(budget()).toBe(12);
});

it('gives pushes the busy budget while votes flood in, however idle the loop', () => {
  const { loop, utilization, pass } = fakeLoop();
  let votes = 0;
  const budget = loadAwareBudget({
    idleBytesPerSec: 32,
    busyBytesPerSec: 4,
    utilization,
    votes: () => votes,
    busyAboveVotesPerSec: 5_000,
    now: () => loop.at,
  });
  votes += 500; // 2,000 votes a second: a GUI follows them
  pass(250, 0.3);
  expect(budget()).toBe(32);
  votes += 1_500; // 6,000 a second
  pass(250, 0.3);
  expect(budget()).toBe(4);
  pass(250, 0.3); // the flood is over
  expect(budget()).toBe(32);
  pass(250, 0.95); // no votes, but the loop is busy with other work
  expect(budget()).toBe(4);
});

it('lets the coalescer follow a budget that changes', () => {
  let now = 0;
  let rate = 1_000;
  const sent: number[] = [];
  const coalescer = new PollCoalescer<{ id: string; version: number }>(
    10,
    (state) => {
      sent.push(state.version);
      return 1_000; // each push costs a whole second of the low budget
    },
    { bytesPerSec: () => rate, quietBytesPerSec: 1_000, now: () => now },
  );
  coalescer.push({ id: 'a', version: 1 });
  coalescer.push({ id: 'b', version: 1 });
  // The first push spent the budget: 'b' waits.
  expect(sent).toEqual([1]);
  coalescer.close();

  now = 0;
  rate = 1_000_000;
  sent.length = 0;
  const rich = new PollCoalescer<{ id: string; version: number }>(
    10,
    (state) => {
      sent.push(state.version);
      return 1_000;
    },
    { bytesPerSec: () => rate, now: () => now },
  );
  rich.push({ id: 'a', version: 1 });
  rich.push({ id: 'b', version: 1 });
  expect(sent).toEqual([1, 1]);
  rich.close();
});
