import type {
  Chat,
  Poll,
  PollEvent,
  PollMastersClient,
  PollPage,
  SendPollsResult,
  SessionState,
} from '@pollmasters/client';
import { createPollMastersClient, listAllPolls } from '@pollmasters/client';
import { describe, expectTypeOf, it } from 'vitest';

// Checked by `tsc -p tsconfig.json`: each `@ts-expect-error` line must fail to compile.
// Never called at run time: the client is only created, never used against a server.
const typeChecks = (client: PollMastersClient) => {
  // @ts-expect-error options must be an array of strings
  void client.polls.send.mutate({ chatIds: ['1@g.us'], question: 'q', options: 'a,b' });
  // @ts-expect-error chatIds is required
  void client.polls.send.mutate({ question: 'q', options: ['a', 'b'] });
  // @ts-expect-error the phone number is a string
  void client.session.requestPairingCode.mutate({ phoneNumber: 491701234567 });
  // @ts-expect-error polls.get needs an id
  void client.polls.get.query({});
  // @ts-expect-error there is no such procedure
  void client.polls.remove.mutate({ id: 'x' });
  // @ts-expect-error subscriptions are not queries
  void client.polls.updates.query();
  // Sessions: every chat, poll and vote procedure takes a session id, checked like the server's.
  void client.polls.send.mutate({
    sessionId: 'shop',
    chatIds: ['1@g.us'],
    question: 'q',
    options: ['a', 'b'],
  });
  // @ts-expect-error a session id is a string
  void client.polls.list.query({ sessionId: 7 });
  // @ts-expect-error sessions.create needs an id
  void client.sessions.create.mutate({ start: true });
  void client.sessions.login.mutate({ id: 'shop' }).then((login) => {
    // The QR or the pairing code: the result says which.
    if (login.method === 'qr') expectTypeOf(login.qr).toEqualTypeOf<string | null>();
    else expectTypeOf(login.code).toEqualTypeOf<string>();
  });
  client.polls.updates.subscribe(
    { pollId: 'x' },
    {
      onData: (event) => expectTypeOf(event).toEqualTypeOf<{ id: string; data: PollEvent }>(),
    },
  );
};

describe('client types', () => {
  it('infers inputs and outputs from the router and the shared schemas', () => {
    const client = createPollMastersClient({ url: 'http://127.0.0.1:1' });
    expectTypeOf(typeChecks).parameter(0).toEqualTypeOf<PollMastersClient>();
    expectTypeOf(client.polls.list.query).returns.resolves.toEqualTypeOf<PollPage>();
    expectTypeOf(listAllPolls).returns.resolves.toEqualTypeOf<Poll[]>();
    expectTypeOf(client.polls.get.query).returns.resolves.toEqualTypeOf<Poll>();
    expectTypeOf(client.chats.list.query).returns.resolves.toEqualTypeOf<Chat[]>();
    expectTypeOf(client.session.status.query).returns.resolves.toEqualTypeOf<SessionState>();
    expectTypeOf(client.polls.send.mutate).returns.resolves.toEqualTypeOf<SendPollsResult>();
    expectTypeOf(client.polls.send.mutate)
      .parameter(0)
      .toHaveProperty('chatIds')
      .toEqualTypeOf<string[]>();
    expectTypeOf(client.session.requestPairingCode.mutate).returns.resolves.toEqualTypeOf<{
      code: string;
    }>();
    expectTypeOf(client.close).returns.toEqualTypeOf<Promise<void>>();
    void client.close();
  });
});
