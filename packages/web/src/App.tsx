import { QueryClientProvider, useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { readApiKey, storeApiKey } from './apiKey';
import { ConnectionBanner } from './components/ConnectionBanner';
import { ErrorAlert } from './components/ErrorAlert';
import { KeyPrompt } from './components/KeyPrompt';
import { SessionPicker } from './components/SessionPicker';
import { href, useRoute } from './route';
import { screens } from './screens';
import { createClients, isUnauthorized, TRPCProvider, useTRPC } from './trpc';

/** The page: one set of clients per API key (a new key, new clients), then the shell. */
export const App = () => {
  const [apiKey, setApiKey] = useState(readApiKey);
  const [refused, setRefused] = useState(false);
  const clients = useMemo(() => createClients(apiKey), [apiKey]);
  // The clients of a key given up close their WebSocket. Not in an effect's cleanup: React's
  // StrictMode runs effects twice in development, and would close the clients still in use.
  const previous = useRef(clients);
  useEffect(() => {
    if (previous.current !== clients) void previous.current.wsClient.close();
    previous.current = clients;
  }, [clients]);
  const submitKey = (key: string) => {
    storeApiKey(key);
    setRefused(false);
    setApiKey(key);
  };
  return (
    // Keyed by the key: a new key mounts everything afresh, on its own clients.
    <QueryClientProvider key={apiKey ?? ''} client={clients.queryClient}>
      <TRPCProvider trpcClient={clients.trpcClient} queryClient={clients.queryClient}>
        <Shell
          apiKey={apiKey}
          refused={refused}
          onRefused={() => {
            storeApiKey(null);
            setRefused(apiKey !== null);
          }}
          onKey={submitKey}
        />
      </TRPCProvider>
    </QueryClientProvider>
  );
};

interface ShellProps {
  apiKey: string | null;
  refused: boolean;
  onRefused: () => void;
  onKey: (key: string) => void;
}

/** Navigation, the session picker, the banner and the screen of the address. */
const Shell = ({ apiKey, refused, onRefused, onKey }: ShellProps) => {
  const trpc = useTRPC();
  const route = useRoute();
  // Asked first: it tells whether the server wants a key (and whether this one is right).
  const sessions = useQuery(trpc.sessions.list.queryOptions());
  const unauthorized = isUnauthorized(sessions.error);
  useEffect(() => {
    if (unauthorized && apiKey !== null) onRefused();
  }, [unauthorized, apiKey, onRefused]);
  if (unauthorized || refused) {
    return <KeyPrompt refused={refused} onSubmit={onKey} />;
  }
  const screen = screens.find((s) => s.path === route.screen) ?? screens[0]!;
  return (
    <>
      <header className="top">
        <a className="brand" href={href({ screen: screens[0]!.path })}>
          PollMasters
        </a>
        <nav aria-label="Screens">
          {screens.map((s) => (
            <a
              key={s.path}
              href={href({ screen: s.path, sessionId: route.sessionId })}
              aria-current={s === screen ? 'page' : undefined}
            >
              {s.title}
            </a>
          ))}
        </nav>
        <SessionPicker sessions={sessions.data ?? []} route={route} screen={screen.path} />
      </header>
      <ConnectionBanner />
      <main>
        <ErrorAlert
          error={unauthorized ? null : sessions.error}
          prefix="The server did not answer: "
        />
        <screen.Component key={route.sessionId} sessionId={route.sessionId} rest={route.rest} />
      </main>
    </>
  );
};
