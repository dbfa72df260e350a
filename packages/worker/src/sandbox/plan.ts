import type { SandboxOptions } from './options.js';
import { deriveSeed, Random } from './random.js';
import type { Person, WorldChat } from './world.js';

/**
 * - `vote`: a first vote;
 * - `change`: a newer vote with another selection;
 * - `withdraw`: a newer vote with an empty selection;
 * - `redelivery`: an earlier vote delivered again (same message id) after a newer one, as
 *   WhatsApp sometimes does; the worker must treat it as stale.
 */
export type CastKind = 'vote' | 'change' | 'withdraw' | 'redelivery';

export interface PlannedCast {
  /** Milliseconds after the poll was sent. */
  atMs: number;
  kind: CastKind;
  voter: Person;
  /** Option names; empty for a withdrawal; for a redelivery, those of the original vote. */
  options: string[];
  /** The vote message id; a redelivery repeats the original's id. */
  messageId: string;
}

export interface PollToPlan {
  chat: WorldChat;
  name: string;
  options: readonly string[];
  selectableCount: number;
  /** How many polls were sent to this chat before this one, so plans do not repeat. */
  sequence: number;
}

type PlanSettings = Pick<SandboxOptions, 'seed' | 'voteDelayMs' | 'changeRate' | 'withdrawRate'>;

/**
 * Plans who votes what and when on a new poll. It depends only on the seed, the chat and the
 * poll's content (not on its random id or secret), so two networks with the same seed plan the
 * same votes for the same poll.
 */
export function planVotes(poll: PollToPlan, settings: PlanSettings): PlannedCast[] {
  const random = new Random(
    deriveSeed(
      settings.seed,
      'plan',
      poll.chat.id,
      poll.sequence,
      poll.selectableCount,
      poll.name,
      ...poll.options,
    ),
  );
  const delay = (): number => random.int(settings.voteDelayMs.min, settings.voteDelayMs.max);
  const messageId = (): string => `3EB0${random.hex(18)}`;
  const casts: PlannedCast[] = [];
  const multiVoters: PlannedCast[][] = [];

  for (const voter of poll.chat.members) {
    const own: PlannedCast[] = [];
    let at = delay();
    let selection = select(random, poll);
    own.push({ atMs: at, kind: 'vote', voter, options: selection, messageId: messageId() });
    if (random.chance(settings.changeRate)) {
      at += delay() + 1;
      selection = select(random, poll, selection);
      own.push({ atMs: at, kind: 'change', voter, options: selection, messageId: messageId() });
    }
    if (random.chance(settings.withdrawRate)) {
      at += delay() + 1;
      own.push({ atMs: at, kind: 'withdraw', voter, options: [], messageId: messageId() });
    }
    casts.push(...own);
    if (own.length > 1) multiVoters.push(own);
  }

  // At least one stale redelivery per poll whenever someone voted twice, a few more by chance.
  const chosen = multiVoters.length > 0 ? random.pick(multiVoters) : undefined;
  for (const own of multiVoters) {
    if (own !== chosen && !random.chance(0.25)) continue;
    const original = random.pick(own.slice(0, -1));
    const last = own.at(-1) as PlannedCast;
    casts.push({ ...original, kind: 'redelivery', atMs: last.atMs + delay() + 1 });
  }
  return casts.sort((a, b) => a.atMs - b.atMs);
}

/**
 * A selection that respects `selectableCount`: 1 means exactly one option, 0 means one or more,
 * n means one to n. Tries to differ from `previous` so that a change is a real change.
 */
export function select(
  random: Random,
  poll: Pick<PollToPlan, 'options' | 'selectableCount'>,
  previous?: readonly string[],
): string[] {
  const max =
    poll.selectableCount === 0
      ? poll.options.length
      : Math.min(poll.selectableCount, poll.options.length);
  let selection: string[] = [];
  for (let attempt = 0; attempt < 8; attempt++) {
    const count = random.int(1, Math.max(1, max));
    const picked = new Set(random.shuffle(poll.options).slice(0, count));
    selection = poll.options.filter((option) => picked.has(option));
    if (!previous || selection.join('\u0000') !== previous.join('\u0000')) break;
  }
  return selection;
}
