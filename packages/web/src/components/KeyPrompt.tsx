import { type FormEvent, useState } from 'react';

/** Asks for the server's API key, once per tab; says so clearly when the last one was wrong. */
export const KeyPrompt = ({
  refused,
  onSubmit,
}: {
  refused: boolean;
  onSubmit: (key: string) => void;
}) => {
  const [key, setKey] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (key.trim()) onSubmit(key.trim());
  };
  return (
    <main className="key-prompt">
      <h1>PollMasters</h1>
      <form onSubmit={submit}>
        <label htmlFor="api-key">This server needs its API key</label>
        {refused ? (
          <p role="alert" className="error">
            The server refused that key (401 Unauthorized). Check it and try again.
          </p>
        ) : null}
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          // biome-ignore lint/a11y/noAutofocus: the only thing to do on this page
          autoFocus
          value={key}
          onChange={(e) => setKey(e.target.value)}
        />
        <button type="submit">Open the dashboard</button>
        <p className="hint">Kept in this tab only (its session storage) until the tab is closed.</p>
      </form>
    </main>
  );
};
