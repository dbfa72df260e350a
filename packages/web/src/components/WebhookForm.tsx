import { WebhookEventType } from '@pollmasters/shared';
import { type FormEvent, useId, useState } from 'react';

/** What the form gives: the endpoint's URL and the event types it receives. */
export interface WebhookFormValue {
  url: string;
  events: WebhookEventType[];
}

interface Props {
  /** The accessible name of the form (e.g. "New webhook", "Edit ep_…"). */
  label: string;
  initial?: WebhookFormValue;
  submitText: string;
  pending: boolean;
  onSubmit: (value: WebhookFormValue) => void;
  onCancel?: () => void;
}

const ALL = WebhookEventType.options;

/**
 * An endpoint's URL and events, for a new endpoint or to change one. It checks only that the
 * fields are filled: the server says what is wrong with a URL (a loopback address, a user name
 * in it, ...), and the caller shows its message.
 */
export const WebhookForm = ({ label, initial, submitText, pending, onSubmit, onCancel }: Props) => {
  const id = useId();
  const [url, setUrl] = useState(initial?.url ?? '');
  const [events, setEvents] = useState<WebhookEventType[]>(initial?.events ?? [...ALL]);
  const toggle = (type: WebhookEventType, on: boolean) =>
    setEvents((old) => ALL.filter((t) => (t === type ? on : old.includes(t))));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit({ url: url.trim(), events });
  };
  return (
    <form className="panel webhook-form" onSubmit={submit} aria-label={label}>
      <label htmlFor={`${id}-url`}>Endpoint URL</label>
      <input
        id={`${id}-url`}
        name="webhook-url"
        type="text"
        inputMode="url"
        autoComplete="off"
        placeholder="https://example.com/hooks/polls"
        value={url}
        onChange={(e) => setUrl(e.target.value)}
        required
      />
      <fieldset>
        <legend>Events</legend>
        {ALL.map((type) => (
          <label key={type}>
            <input
              type="checkbox"
              name="webhook-event"
              value={type}
              checked={events.includes(type)}
              onChange={(e) => toggle(type, e.target.checked)}
            />{' '}
            {type}
          </label>
        ))}
      </fieldset>
      <div className="actions">
        <button type="submit" disabled={pending || events.length === 0}>
          {events.length === 0 ? 'Pick at least one event' : submitText}
        </button>
        {onCancel ? (
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
};
