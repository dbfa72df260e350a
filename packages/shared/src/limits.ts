/** Input limits, shared by every edge so that the compat API and tRPC reject the same things. */
export const Limits = {
  /** WhatsApp shows at most 255 characters of a poll question. */
  questionMaxLength: 255,
  /** WhatsApp cuts option texts at 100 characters. */
  optionMaxLength: 100,
  minOptions: 1,
  maxOptions: 12,
  /** Chats in one multi-chat send. */
  maxChatsPerSend: 50,
  jidMaxLength: 128,
  /** HTTP JSON body size. */
  bodyMaxBytes: 64 * 1024,
  /**
   * Calls in one tRPC batch: one HTTP request, or one WebSocket message (the calls tRPC's
   * client sends in one tick). As many as a WebSocket connection may hold subscriptions.
   */
  batchMaxCalls: 20,
  /** Polls in one page of `polls.list`: the default, and the most a caller may ask for. */
  pollPageDefault: 20,
  pollPageMax: 100,
  /**
   * Voters in one page of `polls.list`: a page ends after the poll that reaches this many (one
   * poll at least), so that a page of big polls stays a few MB, whatever `limit` asked.
   */
  pollPageMaxVoters: 10_000,
} as const;
