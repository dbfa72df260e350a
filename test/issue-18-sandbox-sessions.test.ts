import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPollMastersClient, listAllPolls } from '@pollmasters/client';
import { afterEach, expect, it } from 'vitest';
import { type ChildServer, spawnServer } from './helpers/childServer.js';
import { expectCountsOfLedger } from './helpers/ledgerCounts.js';
import { eventually } from './helpers/wait.js';

// Issue 18: `pnpm start -- --sandbox --sessions 3 --demo` runs three accounts, each in its own
// simulated world, and the demo sends to every one's chats; every count matches its ledger.

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('--sandbox --sessions 3 --demo: three sessions ready, each voting in its own world, counts exact', {
  timeout: 90_000,
}, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pollmasters-sessions-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const server: ChildServer = await spawnServer([
    '--sandbox',
    '--sessions',
    '3',
    '--demo',
    '--data-dir',
    dataDir,
  ]);
  cleanups.push(async () => {
    if (server.proc.exitCode === null) server.proc.kill('SIGTERM');
    await server.exited;
  });
  const client = createPollMastersClient({ url: server.url });
  cleanups.push(() => client.close());
  const ids = ['default', 's2', 's3'];

  const health = await eventually(
    'three sessions ready',
    async () => {
      const res = await fetch(`${server.url}/healthz`);
      const body = (await res.json()) as { sessions: { id: string; whatsapp: string }[] };
      return res.status === 200 &&
        body.sessions.length === 3 &&
        body.sessions.every((s) => s.whatsapp === 'ready')
        ? body
        : undefined;
    },
    30_000,
  );
  expect(health.sessions.map((s) => s.id).sort()).toEqual(ids);
  // The terminal shows the other accounts too.
  await eventually('their status lines', () =>
    ['s2', 's3'].every((id) => server.stdout.includes(`session ${id}: ready`)),
  );

  // Each session has chats of its own; the demo's first round sends a poll to every one.
  const chatsOf = new Map<string, string[]>();
  for (const id of ids) {
    chatsOf.set(id, (await client.chats.list.query({ sessionId: id })).map((c) => c.id).sort());
  }
  expect(new Set([...chatsOf.values()].map((c) => c.join())).size).toBe(3);

  for (const id of ids) {
    const polls = await eventually(
      `the demo's polls on ${id}`,
      async () => {
        const list = await listAllPolls(client, { sessionId: id });
        return list.length >= chatsOf.get(id)!.length ? list : undefined;
      },
      30_000,
    );
    expect([...new Set(polls.map((p) => p.chatId))].sort()).toEqual(chatsOf.get(id));

    // Every count equals this session's own ledger, once its members have all voted.
    await expectCountsOfLedger(
      server.url,
      client,
      id,
      polls.map((p) => p.id),
    );
  }
});
