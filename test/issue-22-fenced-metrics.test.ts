import { expect, it } from 'vitest';
import { metricsOf, sample } from './helpers/metrics.js';
import { pgTestDatabase } from './helpers/pgTestDatabase.js';
import { startTestServer } from './helpers/server.js';
import { sessionStatus } from './helpers/wait.js';

// Issue #22, decision 2: a write PostgreSQL refuses for a stale fencing token (another node
// owns the session now) shows in this node's /metrics, not only in its log.

const database = pgTestDatabase('issue22fenced');
const FENCED = 'pollmasters_fenced_writes_total{session="default"}';

it('counts in /metrics the write PostgreSQL refused for a stale fencing token, once', async () => {
  const server = await startTestServer({ config: { databaseUrl: database.url } });
  try {
    const { session } = server;
    // Started again under a fencing token, as a node of a cluster starts the sessions it leases.
    await session.stop();
    await session.start(5);
    await sessionStatus(session, 'ready', 15_000);
    expect(sample(await metricsOf(server), FENCED)).toBe(0);
    const [chat] = await session.listChats();
    const poll = {
      chatId: chat!.id,
      question: 'Whose?',
      options: ['Ours', 'Theirs'],
      selectableCount: 1,
    };
    await session.sendPoll(poll);
    expect(sample(await metricsOf(server), FENCED)).toBe(0);

    // Another node takes the session over: it installs the next token.
    await database.admin.query(
      "UPDATE session_fences SET token = 6 WHERE session_id = 'default' AND token = 5",
    );
    await expect(session.sendPoll(poll)).rejects.toThrow(/lease lost/);
    await sessionStatus(session, 'disconnected', 5_000);
    expect(sample(await metricsOf(server), FENCED)).toBe(1);
    // Refused by the worker itself from then on (it stopped): not counted again.
    await expect(session.sendPoll(poll)).rejects.toThrow();
    expect(sample(await metricsOf(server), FENCED)).toBe(1);
  } finally {
    await server.destroy();
  }
});
