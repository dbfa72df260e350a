import { useSubscription } from '@trpc/tanstack-react-query';
import { useMemo, useState } from 'react';
import { useTRPC } from '../trpc';
import { PollStore } from './pollStore';

/**
 * The session's polls, live: one `polls.updates` subscription (every poll's state first, then
 * each change), resumed by tRPC's WebSocket link from its last event id after a reconnect.
 */
export const useLivePolls = (sessionId: string) => {
  const trpc = useTRPC();
  const store = useMemo(() => new PollStore(), []);
  const [, setRevision] = useState(0);
  const subscription = useSubscription(
    trpc.polls.updates.subscriptionOptions(
      { sessionId },
      {
        onData: ({ data }) => {
          store.apply(data);
          setRevision(store.revision);
        },
      },
    ),
  );
  return { store, error: subscription.error };
};
