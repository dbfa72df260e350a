import type { WebhookDeliveryCounts, WebhookListedEndpoint } from '@pollmasters/shared';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTRPC } from '../trpc';
import { ErrorAlert } from './ErrorAlert';
import { SecretOnce } from './SecretOnce';
import { DELIVERY_REFRESH_MS, WebhookDeliveries } from './WebhookDeliveries';
import { WebhookForm } from './WebhookForm';

/**
 * One endpoint: its URL, events and state, how its deliveries stand, and what can be done to
 * it (change, pause or resume, rotate its secret, delete, its deliveries).
 */
export const WebhookEndpointCard = ({ endpoint: ep }: { endpoint: WebhookListedEndpoint }) => {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [showDeliveries, setShowDeliveries] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.webhooks.pathKey() });
  const update = useMutation(trpc.webhooks.update.mutationOptions({ onSuccess: refresh }));
  const rotate = useMutation(trpc.webhooks.rotateSecret.mutationOptions());
  // Only the list is asked again: this card (and its deliveries' queries) is gone at once.
  const remove = useMutation(
    trpc.webhooks.delete.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.webhooks.list.queryKey() }),
    }),
  );
  const failed = [update, rotate, remove].find((m) => m.error)?.error;
  const target = { sessionId: ep.sessionId, endpointId: ep.id };
  if (remove.isSuccess) return null;
  return (
    <li className="card" data-endpoint={ep.id} data-paused={ep.paused}>
      <div className="card-head">
        <h2 className="url">{ep.url}</h2>
        <span className={`status ${ep.paused ? 'status-paused' : 'status-ready'}`}>
          {ep.paused ? 'paused' : 'active'}
        </span>
      </div>
      <p className="muted">
        {ep.events.join(', ')} · <code>{ep.id}</code>
      </p>
      <DeliverySummary {...target} counts={ep.deliveries} />
      <div className="actions">
        <button
          type="button"
          aria-expanded={showDeliveries}
          onClick={() => setShowDeliveries(!showDeliveries)}
        >
          Deliveries
        </button>
        <button type="button" aria-expanded={editing} onClick={() => setEditing(!editing)}>
          Edit
        </button>
        <button
          type="button"
          disabled={update.isPending}
          onClick={() => update.mutate({ ...target, paused: !ep.paused })}
        >
          {ep.paused ? 'Resume' : 'Pause'}
        </button>
        <button
          type="button"
          disabled={rotate.isPending}
          onClick={() =>
            window.confirm(`Rotate the secret of ${ep.url}? The old one stops working at once.`) &&
            rotate.mutate(target)
          }
        >
          Rotate secret
        </button>
        <button
          type="button"
          className="danger"
          disabled={remove.isPending}
          onClick={() =>
            window.confirm(`Delete the webhook ${ep.url} and its deliveries?`) &&
            remove.mutate(target)
          }
        >
          Delete
        </button>
      </div>
      <ErrorAlert error={failed} />
      {rotate.data ? <SecretOnce secret={rotate.data.secret} onDone={rotate.reset} /> : null}
      {editing ? (
        <WebhookForm
          label={`Edit ${ep.url}`}
          initial={{ url: ep.url, events: ep.events }}
          submitText="Save"
          pending={update.isPending}
          onCancel={() => setEditing(false)}
          onSubmit={(value) =>
            update.mutate({ ...target, ...value }, { onSuccess: () => setEditing(false) })
          }
        />
      ) : null}
      {showDeliveries ? <WebhookDeliveries {...target} /> : null}
    </li>
  );
};

/**
 * How many deliveries wait and how many failed (the list's exact counts, refreshed with it),
 * and how the newest one went.
 */
const DeliverySummary = ({
  counts,
  ...target
}: {
  sessionId: string;
  endpointId: string;
  counts: WebhookDeliveryCounts;
}) => {
  const trpc = useTRPC();
  const newest = useQuery({
    ...trpc.webhooks.deliveries.queryOptions({ ...target, limit: 1 }),
    refetchInterval: DELIVERY_REFRESH_MS,
  });
  const last = newest.data?.deliveries[0];
  return (
    <p
      className="summary"
      data-pending={counts.pending}
      data-failed={counts.failed}
      data-delivered={counts.delivered}
      data-last={last?.status}
    >
      {counts.pending} waiting ·{' '}
      <span className={counts.failed ? 'error' : undefined}>{counts.failed} failed</span> ·{' '}
      {counts.delivered} delivered ·{' '}
      {last
        ? `newest: ${last.type} ${last.status}${last.lastResponseCode !== null ? ` (HTTP ${last.lastResponseCode})` : ''}`
        : 'no deliveries yet'}
    </p>
  );
};
