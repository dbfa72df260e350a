import type { Logger, SendPollInput, SessionState } from '@pollmasters/shared';
import type { SessionView } from './session/sessionService.js';

/** What the demo needs of a session (SessionService has it). */
export type DemoSession = SessionView<
  'sessionState' | 'listChats' | 'sendPoll' | 'workerState' | 'runsOn'
>;

const questions: readonly Omit<SendPollInput, 'chatId'>[] = [
  {
    question: 'Where do we meet on Friday?',
    options: ['Cafe', 'Park', 'Library'],
    selectableCount: 1,
  },
  {
    question: 'Which snacks should we bring?',
    options: ['Fruit', 'Chips', 'Cake', 'Nuts'],
    selectableCount: 0,
  },
  { question: 'Best time for the call?', options: ['9:00', '12:30', '17:00'], selectableCount: 1 },
  {
    question: 'Which topics for next week?',
    options: ['Budget', 'Hiring', 'Roadmap'],
    selectableCount: 0,
  },
];

/**
 * The sandbox demo (`--sandbox --demo`): once the session is ready, and then every `everyMs`,
 * sends the next demo poll to every chat, so that a newcomer sees polls and votes arrive.
 * Returns a function that stops it.
 */
export const startDemo = (
  session: DemoSession,
  options: { everyMs: number; logger: Logger },
): (() => void) => {
  let round = 0;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let busy = false;

  const sendRound = async () => {
    timer = null;
    if (stopped || busy || session.sessionState.status !== 'ready') return;
    // In a cluster every node runs the demo; the node that runs the session sends its polls.
    if (session.workerState === 'stopped' && session.runsOn !== null) {
      timer = setTimeout(() => void sendRound(), options.everyMs);
      return;
    }
    busy = true;
    const poll = questions[round++ % questions.length]!;
    try {
      for (const chat of await session.listChats()) {
        if (stopped) return;
        await session.sendPoll({ ...poll, chatId: chat.id });
      }
      options.logger.info({ round, question: poll.question }, 'demo polls sent');
    } catch (err) {
      options.logger.warn({ err }, 'demo round failed');
    } finally {
      busy = false;
    }
    if (!stopped) timer = setTimeout(() => void sendRound(), options.everyMs);
  };
  const onState = (state: SessionState) => {
    // Start (again) when the session becomes ready; the timer keeps it going from there.
    if (state.status === 'ready' && timer === null && !busy) void sendRound();
  };
  session.on('state', onState);
  if (session.sessionState.status === 'ready') void sendRound();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    session.off('state', onState);
  };
};
