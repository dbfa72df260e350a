import type { SendPollResult } from '@pollmasters/shared';
import { Limits } from '@pollmasters/shared';
import { useMutation } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { type FormEvent, useState } from 'react';
import { href } from '../route';
import { useTRPC } from '../trpc';
import { ErrorAlert } from './ErrorAlert';

interface Props {
  sessionId: string;
  chatIds: string[];
  chatName: (id: string) => string;
}

/**
 * One poll to the picked chats: the server sends it to each in turn (paced), and this shows
 * each chat's outcome as it comes (`polls.sendProgress`), with the error of each that failed.
 */
export const SendPollForm = ({ sessionId, chatIds, chatName }: Props) => {
  const trpc = useTRPC();
  const [question, setQuestion] = useState('');
  const [options, setOptions] = useState('');
  const [multiple, setMultiple] = useState(false);
  const [sendId, setSendId] = useState<string | null>(null);
  const [sentTo, setSentTo] = useState<string[]>([]);
  const [results, setResults] = useState<Record<string, SendPollResult>>({});
  const send = useMutation(trpc.polls.send.mutationOptions());
  useSubscription(
    trpc.polls.sendProgress.subscriptionOptions(
      { sessionId, sendId: sendId ?? '' },
      {
        enabled: sendId !== null,
        onData: ({ data: event }) => {
          if (event.type === 'result') {
            setResults((old) => ({ ...old, [event.result.chatId]: event.result }));
          }
        },
      },
    ),
  );
  const optionList = options
    .split('\n')
    .map((o) => o.trim())
    .filter(Boolean);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const id = `web-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    setSendId(id);
    setSentTo(chatIds);
    setResults({});
    send.mutate(
      {
        sessionId,
        sendId: id,
        chatIds,
        question,
        options: optionList,
        selectableCount: multiple ? 0 : 1,
      },
      {
        // The answer holds every chat's outcome too: nothing is missed if the stream was late.
        onSuccess: (done) => setResults(Object.fromEntries(done.results.map((r) => [r.chatId, r]))),
      },
    );
  };
  return (
    <form className="panel send" onSubmit={submit} aria-labelledby="send-title">
      <h2 id="send-title">Send a poll</h2>
      <label>
        Question
        <input
          name="question"
          value={question}
          onChange={(e) => setQuestion(e.target.value)}
          maxLength={Limits.questionMaxLength}
          required
        />
      </label>
      <label>
        Options, one per line ({Limits.minOptions} to {Limits.maxOptions})
        <textarea
          name="options"
          rows={4}
          value={options}
          onChange={(e) => setOptions(e.target.value)}
          required
        />
      </label>
      <label>
        <input type="checkbox" checked={multiple} onChange={(e) => setMultiple(e.target.checked)} />{' '}
        allow several answers
      </label>
      <button type="submit" disabled={chatIds.length === 0 || send.isPending}>
        {chatIds.length === 0
          ? 'Pick chats to send to'
          : `Send to ${chatIds.length} ${chatIds.length === 1 ? 'chat' : 'chats'}`}
      </button>
      <ErrorAlert error={send.error} prefix="Not sent: " />
      {sentTo.length > 0 && !send.error ? (
        <ol className="progress" aria-label="Send progress" aria-live="polite">
          {sentTo.map((chatId) => {
            const r = results[chatId];
            return (
              <li
                key={chatId}
                data-chat={chatId}
                data-outcome={r ? (r.ok ? 'sent' : 'failed') : 'pending'}
              >
                <span>{chatName(chatId)}</span>{' '}
                {!r ? (
                  <span className="muted">waiting…</span>
                ) : r.ok ? (
                  <span className="ok">
                    sent ·{' '}
                    <a href={href({ screen: 'polls', rest: [r.pollId ?? ''], sessionId })}>
                      results
                    </a>
                  </span>
                ) : (
                  <span className="error" role="alert">
                    failed: {r.error?.message ?? 'unknown error'}
                  </span>
                )}
              </li>
            );
          })}
        </ol>
      ) : null}
    </form>
  );
};
