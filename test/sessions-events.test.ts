import { createPollMastersClient, type PollMastersClient } from '@pollmasters/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';
import { eventually } from './helpers/wait.js';

// `sessions.events` (the dashboard's live session list): every session, then each change; a
// deleted session is announced once, and nothing follows its service any more (no leak).

let running: TestServer;
let client: PollMastersClient;
beforeAll(async () => {
  running = await startTestServer({ sandbox: { autoVote: false } });
  client = createPollMastersClient({ url: running.url });
});
afterAll(async () => {
  await client?.close();
  await running?.destroy();
});

it('announces a created session, its deletion once, and nothing of it afterwards', async () => {
  const seen: string[] = [];
  const sub = client.sessions.events.subscribe(
    {},
    {
      onData: ({ data }) =>
        seen.push(data.type === 'deleted' ? `deleted ${data.id}` : `session ${data.session.id}`),
    },
  );
  await eventually('the list as it is', () => seen.includes('session default'));
  await client.sessions.create.mutate({ id: 'gone', start: false });
  await eventually('the new session', () => seen.includes('session gone'));
  const service = running.sessions.require('gone').service;
  await client.sessions.delete.mutate({ id: 'gone' });
  await eventually('its deletion', () => seen.includes('deleted gone'));

  // No one follows the deleted service any more: the subscription let go of it too.
  expect(service.listenerCount('state')).toBe(0);
  // Announced once; a later session's events still come.
  await client.sessions.create.mutate({ id: 'later', start: false });
  await eventually('the later session', () => seen.includes('session later'));
  expect(seen.filter((e) => e.endsWith(' gone'))).toEqual(['session gone', 'deleted gone']);
  sub.unsubscribe();
});
