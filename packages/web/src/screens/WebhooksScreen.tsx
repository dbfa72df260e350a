import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ErrorAlert } from '../components/ErrorAlert';
import { SecretOnce } from '../components/SecretOnce';
import { DELIVERY_REFRESH_MS } from '../components/WebhookDeliveries';
import { WebhookEndpointCard } from '../components/WebhookEndpointCard';
import { WebhookForm } from '../components/WebhookForm';
import type { ScreenProps } from '../screenProps';
import { useTRPC } from '../trpc';

/**
 * A session's webhooks: its endpoints with how their deliveries stand, a new endpoint (its
 * secret shown once), and per endpoint: change, pause, rotate, delete, deliveries and replay.
 */
export const WebhooksScreen = ({ sessionId }: ScreenProps) => {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // Asked again as the deliveries are (each endpoint's counts come with the list); not while
  // it fails (a stopped session): starting it asks again.
  const list = useQuery({
    ...trpc.webhooks.list.queryOptions({ sessionId }),
    refetchInterval: (query) => (query.state.error ? false : DELIVERY_REFRESH_MS),
  });
  /** Bumped after each endpoint made: a fresh, empty form. */
  const [formKey, setFormKey] = useState(0);
  const create = useMutation(
    trpc.webhooks.create.mutationOptions({
      onSuccess: () => {
        setFormKey((k) => k + 1);
        return queryClient.invalidateQueries({ queryKey: trpc.webhooks.pathKey() });
      },
    }),
  );
  // A stopped session's worker, which keeps its webhooks, is not running: offer to start it.
  const sessions = useQuery(trpc.sessions.list.queryOptions());
  const stopped = sessions.data?.find((s) => s.id === sessionId)?.run === 'stopped';
  const start = useMutation(
    trpc.sessions.start.mutationOptions({
      onSuccess: () =>
        Promise.all([
          queryClient.invalidateQueries({ queryKey: trpc.sessions.list.queryKey() }),
          queryClient.invalidateQueries({ queryKey: trpc.webhooks.pathKey() }),
        ]),
    }),
  );
  const endpoints = list.data?.endpoints ?? [];
  return (
    <section aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">Webhooks of {sessionId}</h1>
      <p className="hint">
        Each endpoint gets the session's events it names, signed, in order, retried until it answers
        2xx.
      </p>
      <WebhookForm
        key={formKey}
        label="New webhook"
        submitText="Add webhook"
        pending={create.isPending}
        onSubmit={(value) => create.mutate({ sessionId, ...value })}
      />
      <ErrorAlert error={create.error} prefix="Not added: " />
      {/* The secret lives in the mutation's answer alone: dismissed, it is forgotten. */}
      {create.data ? <SecretOnce secret={create.data.secret} onDone={create.reset} /> : null}
      <ErrorAlert error={list.error} />
      {list.error && stopped ? (
        <button
          type="button"
          disabled={start.isPending}
          onClick={() => start.mutate({ id: sessionId })}
        >
          Start {sessionId}
        </button>
      ) : null}
      <ErrorAlert error={start.error} />
      {list.isPending ? <p className="muted">Loading…</p> : null}
      {list.data && endpoints.length === 0 ? <p>No webhooks yet.</p> : null}
      <ul className="cards">
        {endpoints.map((ep) => (
          <WebhookEndpointCard key={ep.id} endpoint={ep} />
        ))}
      </ul>
    </section>
  );
};
