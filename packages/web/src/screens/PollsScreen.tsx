import { useQuery } from '@tanstack/react-query';
import { Bars } from '../components/Bars';
import { ErrorAlert } from '../components/ErrorAlert';
import { PollDetail } from '../components/PollDetail';
import { formatTime } from '../format';
import { useLivePolls } from '../live/useLivePolls';
import { href } from '../route';
import type { ScreenProps } from '../screenProps';
import { useTRPC } from '../trpc';

/** The session's polls with their results, moving as votes arrive; one poll in detail. */
export const PollsScreen = ({ sessionId, rest }: ScreenProps) => {
  const trpc = useTRPC();
  const { store, error } = useLivePolls(sessionId);
  const chats = useQuery(trpc.chats.list.queryOptions({ sessionId }));
  const chatName = (id: string) => chats.data?.find((c) => c.id === id)?.name ?? id;
  const openId = rest[0];
  const open = openId ? store.polls.get(openId) : undefined;
  return (
    <section aria-labelledby="polls-title">
      <h1 id="polls-title">Polls of {sessionId}</h1>
      <ErrorAlert error={error} prefix="Live results stopped: " />
      {openId ? (
        open ? (
          <PollDetail
            sessionId={sessionId}
            live={open}
            timeline={store.timelines.get(openId) ?? []}
            chatName={chatName(open.poll.chatId)}
          />
        ) : (
          <p>{store.synced ? `No poll ${openId} in this session.` : 'Loading…'}</p>
        )
      ) : null}
      {!store.synced ? <p className="muted">Loading polls…</p> : null}
      {store.synced && store.polls.size === 0 ? (
        <p>
          No polls yet. <a href={href({ screen: 'chats', sessionId })}>Send one</a>.
        </p>
      ) : null}
      <ul className="cards poll-list">
        {store.list().map(({ poll, counts }) => (
          <li key={poll.id} className="card" data-poll={poll.id}>
            <h2>
              <a href={href({ screen: 'polls', rest: [poll.id], sessionId })}>{poll.question}</a>
            </h2>
            <p className="muted">
              {chatName(poll.chatId)} · {formatTime(poll.createdAt)} · {poll.voters.length}{' '}
              {poll.voters.length === 1 ? 'voter' : 'voters'}
            </p>
            <Bars counts={counts} voters={poll.voters.length} />
          </li>
        ))}
      </ul>
    </section>
  );
};
