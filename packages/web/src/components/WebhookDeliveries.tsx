import type { WebhookDelivery, WebhookDeliveryStatus } from '@pollmasters/shared';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { formatTime } from '../format';
import { useTRPC } from '../trpc';
import { ErrorAlert } from './ErrorAlert';

/** How often the lists are asked again: the API has no stream of delivery changes. */
export const DELIVERY_REFRESH_MS = 2_000;
const PAGE = 50;

interface Props {
  sessionId: string;
  endpointId: string;
}

/**
 * An endpoint's deliveries, newest first, a page at a time (refreshed every 2 s): status,
 * attempts, the last answer's code or error, the next attempt; only the failed ones if asked;
 * replay one failed delivery or all of them.
 */
export const WebhookDeliveries = ({ sessionId, endpointId }: Props) => {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<WebhookDeliveryStatus | ''>('');
  /** The pages seen before this one (their `before`), to go back to newer ones. */
  const [pages, setPages] = useState<(number | undefined)[]>([undefined]);
  const before = pages.at(-1);
  const list = useQuery({
    ...trpc.webhooks.deliveries.queryOptions({
      sessionId,
      endpointId,
      limit: PAGE,
      ...(status ? { status } : {}),
      ...(before !== undefined ? { before } : {}),
    }),
    refetchInterval: DELIVERY_REFRESH_MS,
  });
  const replay = useMutation(
    trpc.webhooks.replay.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.webhooks.pathKey() }),
    }),
  );
  const deliveries = list.data?.deliveries ?? [];
  const last = deliveries.at(-1);
  return (
    <section className="deliveries" aria-label={`Deliveries of ${endpointId}`}>
      <div className="actions">
        <label>
          Show{' '}
          <select
            name="delivery-status"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as WebhookDeliveryStatus | '');
              setPages([undefined]);
            }}
          >
            <option value="">all deliveries</option>
            <option value="failed">failed only</option>
            <option value="pending">pending only</option>
            <option value="delivered">delivered only</option>
          </select>
        </label>
        <button
          type="button"
          onClick={() => replay.mutate({ sessionId, endpointId })}
          disabled={replay.isPending}
        >
          Replay all failed
        </button>
        {replay.data ? (
          <span role="status" className="muted">
            {replay.data.requeued} {replay.data.requeued === 1 ? 'delivery' : 'deliveries'} queued
            again
          </span>
        ) : null}
      </div>
      <ErrorAlert error={replay.error} />
      <ErrorAlert error={list.error} />
      {list.isPending ? <p className="muted">Loading deliveries…</p> : null}
      {list.data && deliveries.length === 0 ? (
        <p className="muted">{status ? `No ${status} deliveries.` : 'No deliveries yet.'}</p>
      ) : null}
      {deliveries.length > 0 ? (
        <table className="stack-table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last answer</th>
              <th scope="col">When</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {deliveries.map((d) => (
              <DeliveryRow
                key={d.id}
                delivery={d}
                replaying={replay.isPending}
                onReplay={() => replay.mutate({ sessionId, endpointId, deliveryId: d.id })}
              />
            ))}
          </tbody>
        </table>
      ) : null}
      <div className="actions">
        {pages.length > 1 ? (
          <button type="button" className="secondary" onClick={() => setPages([undefined])}>
            Newest
          </button>
        ) : null}
        {last && deliveries.length === PAGE ? (
          <button type="button" className="secondary" onClick={() => setPages([...pages, last.id])}>
            Older
          </button>
        ) : null}
      </div>
    </section>
  );
};

/** The last attempt's HTTP status, or why there was none (no connection, a timeout). */
const lastAnswer = (d: WebhookDelivery): string =>
  d.lastResponseCode !== null ? `HTTP ${d.lastResponseCode}` : (d.lastError ?? '—');

const when = (d: WebhookDelivery): string =>
  d.status === 'delivered' && d.deliveredAt !== null
    ? `delivered ${formatTime(d.deliveredAt)}`
    : d.status === 'pending' && d.nextAttemptAt !== null
      ? `next attempt ${formatTime(d.nextAttemptAt)}`
      : `stored ${formatTime(d.createdAt)}`;

interface RowProps {
  delivery: WebhookDelivery;
  replaying: boolean;
  onReplay: () => void;
}

const DeliveryRow = ({ delivery: d, replaying, onReplay }: RowProps) => (
  <tr data-delivery={d.id} data-status={d.status} data-event-id={d.eventId}>
    <td data-label="#">{d.id}</td>
    <td data-label="Event">{d.type}</td>
    <td data-label="Status">
      <span className={`status delivery-${d.status}`}>{d.status}</span>
    </td>
    <td data-label="Attempts">{d.attempts}</td>
    <td data-label="Last answer" className="wrap">
      {lastAnswer(d)}
    </td>
    <td data-label="When">{when(d)}</td>
    <td>
      {d.status === 'failed' ? (
        <button
          type="button"
          onClick={onReplay}
          disabled={replaying}
          aria-label={`Replay delivery ${d.id}`}
        >
          Replay
        </button>
      ) : null}
    </td>
  </tr>
);
