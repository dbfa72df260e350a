import type { SessionService } from '@pollmasters/api';

/**
 * Sends `count` polls with `options` to the session's groups in turn, mostly single choice,
 * every fourth multiple choice (both kinds of selection); their ids and chats.
 */
export const sendPolls = async (
  session: SessionService,
  { count, prefix, options }: { count: number; prefix: string; options: string[] },
): Promise<{ id: string; chatId: string }[]> => {
  const groups = (await session.listChats()).filter((c) => c.isGroup);
  const polls: { id: string; chatId: string }[] = [];
  for (let i = 0; i < count; i++) {
    const chat = groups[i % groups.length]!;
    const poll = await session.sendPoll({
      chatId: chat.id,
      question: `${prefix} ${i + 1}`,
      options,
      selectableCount: i % 4 === 3 ? 0 : 1,
    });
    polls.push({ id: poll.id, chatId: poll.chatId });
  }
  return polls;
};
