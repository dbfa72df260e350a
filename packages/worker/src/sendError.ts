import { ErrorCode, errors, PollMastersError } from '@pollmasters/shared';

/**
 * WhatsApp's "no such chat": Baileys throws it as a Boom whose message is the error text of
 * the server's answer and whose `data` is its code (`item-not-found`, 404), e.g. when it asks
 * for the members of a group this account is not in.
 */
const isItemNotFound = (err: unknown): boolean =>
  err instanceof Error &&
  (err.message === 'item-not-found' || (err as { data?: unknown }).data === 404);

/**
 * The domain error of a poll that WhatsApp did not take. A chat that WhatsApp does not know
 * for this account is the caller's mistake (NOT_FOUND); anything else is WhatsApp's failure
 * (SEND_FAILED). WhatsApp decides, not the stored chat list: a person can be sent a poll
 * before they are one of the account's chats.
 */
export const sendError = (chatId: string, err: unknown): PollMastersError => {
  if (isItemNotFound(err)) {
    return new PollMastersError(
      ErrorCode.NOT_FOUND,
      `chat ${chatId} not found: WhatsApp has no such chat for this account (item-not-found)`,
      { cause: err },
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return errors.sendFailed(`WhatsApp did not accept the poll: ${message}`, err);
};
