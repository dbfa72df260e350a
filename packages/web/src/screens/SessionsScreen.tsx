import { DEFAULT_SESSION, type SessionInfo } from '@pollmasters/shared';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { type FormEvent, useState } from 'react';
import { ErrorAlert } from '../components/ErrorAlert';
import { LoginPanel } from '../components/LoginPanel';
import { describeJid } from '../format';
import { href } from '../route';
import type { ScreenProps } from '../screenProps';
import { useTRPC } from '../trpc';

/** The server's sessions (WhatsApp accounts), live: create, start, stop, log in, log out, delete. */
export const SessionsScreen = (_props: ScreenProps) => {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const listKey = trpc.sessions.list.queryKey();
  const sessions = useQuery(trpc.sessions.list.queryOptions());
  const [loginOf, setLoginOf] = useState<string | null>(null);
  useSubscription(
    trpc.sessions.events.subscriptionOptions(undefined, {
      onData: ({ data: event }) =>
        queryClient.setQueryData(listKey, (old) => {
          const rest = (old ?? []).filter((s) =>
            event.type === 'deleted' ? s.id !== event.id : s.id !== event.session.id,
          );
          if (event.type === 'deleted') return rest;
          return [...rest, event.session].sort((a, b) => a.createdAt - b.createdAt);
        }),
    }),
  );
  return (
    <section aria-labelledby="sessions-title">
      <h1 id="sessions-title">Sessions</h1>
      <CreateSession onCreated={(id, start) => start && setLoginOf(id)} />
      {sessions.isPending ? <p>Loading…</p> : null}
      <ul className="cards">
        {(sessions.data ?? []).map((s) => (
          <SessionCard
            key={s.id}
            session={s}
            onLogin={() => setLoginOf(s.id)}
            loginOpen={loginOf === s.id}
            onCloseLogin={() => setLoginOf(null)}
          />
        ))}
      </ul>
    </section>
  );
};

const CreateSession = ({ onCreated }: { onCreated: (id: string, start: boolean) => void }) => {
  const trpc = useTRPC();
  const [id, setId] = useState('');
  const [start, setStart] = useState(true);
  const [trackAll, setTrackAll] = useState(false);
  const create = useMutation(trpc.sessions.create.mutationOptions());
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { id: id.trim(), start, settings: trackAll ? { trackPolls: 'all' } : {} },
      {
        onSuccess: (created) => {
          setId('');
          onCreated(created.id, start);
        },
      },
    );
  };
  return (
    <form className="panel row-form" onSubmit={submit} aria-label="New session">
      <label>
        New session id{' '}
        <input
          name="session-id"
          value={id}
          onChange={(e) => setId(e.target.value)}
          pattern="[a-z0-9_\-]{1,64}"
          title="1 to 64 of a-z, 0-9, _ and -"
          required
        />
      </label>
      <label>
        <input type="checkbox" checked={start} onChange={(e) => setStart(e.target.checked)} /> start
        now
      </label>
      <label>
        <input type="checkbox" checked={trackAll} onChange={(e) => setTrackAll(e.target.checked)} />{' '}
        count members' polls too
      </label>
      <button type="submit" disabled={create.isPending}>
        Create session
      </button>
      <ErrorAlert error={create.error} />
    </form>
  );
};

interface CardProps {
  session: SessionInfo;
  loginOpen: boolean;
  onLogin: () => void;
  onCloseLogin: () => void;
}

const SessionCard = ({ session: s, loginOpen, onLogin, onCloseLogin }: CardProps) => {
  const trpc = useTRPC();
  const [purge, setPurge] = useState(false);
  const start = useMutation(trpc.sessions.start.mutationOptions());
  const stop = useMutation(trpc.sessions.stop.mutationOptions());
  const logout = useMutation(trpc.sessions.logout.mutationOptions());
  const remove = useMutation(trpc.sessions.delete.mutationOptions());
  const failed = [start, stop, logout, remove].find((m) => m.error)?.error;
  const running = s.run !== 'stopped';
  return (
    <li className="card" data-session={s.id}>
      <div className="card-head">
        <h2>{s.id}</h2>
        <span className={`status status-${s.status}`} data-status={s.status}>
          {s.status.replace('_', ' ')}
        </span>
        <span className="muted">
          {s.run}
          {s.node ? ` on ${s.node}` : ''}
        </span>
      </div>
      <p className="muted">
        {s.user ? `${s.user.name ?? ''} ${describeJid(s.user.id)}` : 'not logged in'} · {s.polls}{' '}
        polls · <a href={href({ screen: 'polls', sessionId: s.id })}>polls</a> ·{' '}
        <a href={href({ screen: 'chats', sessionId: s.id })}>chats</a> ·{' '}
        <a href={href({ screen: 'webhooks', sessionId: s.id })}>webhooks</a>
      </p>
      <div className="actions">
        {running ? (
          <button type="button" onClick={() => stop.mutate({ id: s.id })}>
            Stop
          </button>
        ) : (
          <button type="button" onClick={() => start.mutate({ id: s.id })}>
            Start
          </button>
        )}
        {s.status !== 'ready' ? (
          <button type="button" onClick={onLogin}>
            Log in
          </button>
        ) : null}
        {s.status === 'ready' ? (
          <button
            type="button"
            onClick={() =>
              window.confirm(`Log ${s.id} out of WhatsApp?`) && logout.mutate({ id: s.id })
            }
          >
            Log out
          </button>
        ) : null}
        {s.id !== DEFAULT_SESSION ? (
          <>
            <button
              type="button"
              className="danger"
              onClick={() =>
                window.confirm(`Delete session ${s.id}${purge ? ' and all its polls' : ''}?`) &&
                remove.mutate({ id: s.id, purge })
              }
            >
              Delete
            </button>
            <label>
              <input type="checkbox" checked={purge} onChange={(e) => setPurge(e.target.checked)} />{' '}
              with its data
            </label>
          </>
        ) : null}
      </div>
      <ErrorAlert error={failed} />
      {loginOpen ? <LoginPanel session={s} onClose={onCloseLogin} /> : null}
    </li>
  );
};
