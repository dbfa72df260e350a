import { createPollMastersClient, type PollMastersClient } from '@pollmasters/client';

export interface WatchedClient {
  client: PollMastersClient;
  /** Resolve when the client's WebSocket opened, and when it closed after that. */
  opened: Promise<void>;
  closed: Promise<void>;
}

/** The tRPC client, with its WebSocket's states as it reports them. */
export const watchedClient = (url: string): WatchedClient => {
  let onOpen = () => {};
  let onClose = () => {};
  const opened = new Promise<void>((r) => {
    onOpen = r;
  });
  const closed = new Promise<void>((r) => {
    onClose = r;
  });
  const client = createPollMastersClient({
    url,
    onConnectionChange: (state) => (state === 'open' ? onOpen() : state === 'closed' && onClose()),
  });
  return { client, opened, closed };
};
