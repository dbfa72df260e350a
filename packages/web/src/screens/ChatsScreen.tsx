import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { ErrorAlert } from '../components/ErrorAlert';
import { SendPollForm } from '../components/SendPollForm';
import { describeJid } from '../format';
import type { ScreenProps } from '../screenProps';
import { useTRPC } from '../trpc';

/** The session's chats and groups, searchable; pick several and send them one poll. */
export const ChatsScreen = ({ sessionId }: ScreenProps) => {
  const trpc = useTRPC();
  const chats = useQuery(trpc.chats.list.queryOptions({ sessionId }));
  const [search, setSearch] = useState('');
  const [picked, setPicked] = useState<string[]>([]);
  const shown = useMemo(() => {
    const words = search.toLowerCase().trim();
    return (chats.data ?? []).filter(
      (c) => !words || c.name.toLowerCase().includes(words) || c.id.includes(words),
    );
  }, [chats.data, search]);
  const toggle = (id: string) =>
    setPicked((old) => (old.includes(id) ? old.filter((x) => x !== id) : [...old, id]));
  const names = new Map((chats.data ?? []).map((c) => [c.id, c.name]));
  return (
    <section aria-labelledby="chats-title" className="split">
      <div>
        <h1 id="chats-title">Chats of {sessionId}</h1>
        <label className="search">
          Search chats{' '}
          <input
            type="search"
            name="chat-search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            placeholder="name or id"
          />
        </label>
        {chats.isPending ? <p>Loading…</p> : null}
        <ErrorAlert error={chats.error} />
        <p className="muted">
          {shown.length} of {chats.data?.length ?? 0} chats · {picked.length} picked
        </p>
        <ul className="chat-list">
          {shown.map((c) => (
            <li key={c.id}>
              <label>
                <input
                  type="checkbox"
                  checked={picked.includes(c.id)}
                  onChange={() => toggle(c.id)}
                  data-chat={c.id}
                />{' '}
                <span className="chat-name">{c.name || c.id}</span>{' '}
                <span className="muted">{c.isGroup ? 'group' : describeJid(c.id)}</span>
              </label>
            </li>
          ))}
        </ul>
      </div>
      <SendPollForm sessionId={sessionId} chatIds={picked} chatName={(id) => names.get(id) ?? id} />
    </section>
  );
};
