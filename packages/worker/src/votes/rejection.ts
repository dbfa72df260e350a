import type { VoteRejection, VoteRejectionReason } from '@pollmasters/shared';

/** Where a vote was: what a rejection names of it, where known. */
export interface VoteIds {
  pollId?: string | null | undefined;
  chatId?: string | null | undefined;
  /** The id of the vote message. */
  messageId?: string | null | undefined;
}

/** A rejection with only the ids that hold a value. */
export const rejection = (
  reason: VoteRejectionReason,
  detail: string,
  { pollId, chatId, messageId }: VoteIds,
): VoteRejection => ({
  reason,
  detail,
  ...(pollId ? { pollId } : {}),
  ...(chatId ? { chatId } : {}),
  ...(messageId ? { messageId } : {}),
});
