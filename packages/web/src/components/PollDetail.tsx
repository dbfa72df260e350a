import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { describeJid, formatTime } from '../format';
import type { LivePoll, TimelineEntry } from '../live/pollStore';
import { href } from '../route';
import { errorMessage, useTRPC } from '../trpc';
import { Bars } from './Bars';

interface Props {
  sessionId: string;
  live: LivePoll;
  timeline: TimelineEntry[];
  chatName: string;
}

/** One poll: its bars, who voted for what, how votes changed, and its CSV. */
export const PollDetail = ({ sessionId, live: { poll, counts }, timeline, chatName }: Props) => {
  const optionName = new Map(poll.options.map((o) => [o.hash, o.name]));
  const names = (selected: readonly string[]) =>
    selected.map((h) => optionName.get(h) ?? h.slice(0, 8)).join(', ');
  return (
    <article className="panel poll-detail" aria-labelledby="poll-title" data-poll={poll.id}>
      <a href={href({ screen: 'polls', sessionId })}>← all polls</a>
      <h2 id="poll-title">{poll.question}</h2>
      <p className="muted">
        {chatName} · created {formatTime(poll.createdAt)} by{' '}
        {poll.creator.fromMe ? 'this account' : describeJid(poll.creator.jid)} ·{' '}
        {poll.selectableCount === 1 ? 'one answer' : 'several answers'}
      </p>
      <Bars counts={counts} voters={poll.voters.length} />
      <CsvButton sessionId={sessionId} pollId={poll.id} />
      <details className="voters" open>
        <summary>
          Who voted ({poll.voters.length} {poll.voters.length === 1 ? 'voter' : 'voters'})
        </summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Number or LID</th>
              <th scope="col">Chose</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {poll.voters.map((v) => (
              <tr key={v.voter} data-voter={v.voter}>
                <td>{v.name ?? '—'}</td>
                <td>{describeJid(v.voter)}</td>
                <td>{names(v.selected)}</td>
                <td>{formatTime(v.timestampMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      <section aria-labelledby="timeline-title">
        <h3 id="timeline-title">Vote changes and withdrawals</h3>
        <p className="muted">As they arrive while this dashboard is open, newest first.</p>
        <ol className="timeline">
          {[...timeline].reverse().map((e) => (
            <li key={e.version} data-kind={e.kind} data-voter={e.voter}>
              <time>{formatTime(e.timestampMs)}</time> {e.name ?? describeJid(e.voter)}{' '}
              {e.kind === 'withdrew'
                ? 'withdrew their vote'
                : `${e.kind === 'changed' ? 'changed to' : 'voted'} ${names(e.selected)}`}
            </li>
          ))}
        </ol>
      </section>
    </article>
  );
};

/** Downloads the poll's CSV (the same file as `GET /polls/:id/export.csv`) through tRPC. */
const CsvButton = ({ sessionId, pollId }: { sessionId: string; pollId: string }) => {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const download = async () => {
    setError(null);
    try {
      const file = await queryClient.fetchQuery({
        ...trpc.polls.export.queryOptions({ sessionId, id: pollId, format: 'csv' }),
        staleTime: 0,
      });
      const url = URL.createObjectURL(new Blob([file.body], { type: file.contentType }));
      const link = document.createElement('a');
      link.href = url;
      link.download = file.filename;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <p>
      <button type="button" onClick={download}>
        Download CSV
      </button>
      {error ? (
        <span role="alert" className="error">
          {' '}
          {errorMessage(error)}
        </span>
      ) : null}
    </p>
  );
};
