import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPollMastersClient, listAllPolls } from '@pollmasters/client';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnServer } from './helpers/childServer.js';
import { expectCountsOfLedger } from './helpers/ledgerCounts.js';
import { eventually } from './helpers/wait.js';

// The worker opens votes with the native cipher that `pnpm install` built, or with node:crypto
// when POLLMASTERS_VOTE_CIPHER=node (as where no compiler built it): the real server, either
// way, says which in its log and counts the sandbox demo's votes exactly.

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.each([
  ['', 'native', 'votes opened natively'],
  ['node', 'node', 'votes opened with node:crypto'],
])('POLLMASTERS_VOTE_CIPHER=%j', (setting, cipher, message) => {
  it(`opens votes with ${cipher} and counts every one`, { timeout: 60_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pollmasters-cipher-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const server = await spawnServer(['--sandbox', '--demo', '--data-dir', dataDir], {
      POLLMASTERS_VOTE_CIPHER: setting,
      LOG_LEVEL: 'info',
    });
    cleanups.push(async () => {
      if (server.proc.exitCode === null) server.proc.kill('SIGTERM');
      await server.exited;
    });
    await server.logged(`"voteCipher":"${cipher}"`);
    expect(server.stderr).toContain(message);

    const client = createPollMastersClient({ url: server.url });
    cleanups.push(() => client.close());
    const chats = await eventually(
      'the chats',
      async () => {
        const list = await client.chats.list.query({ sessionId: 'default' }).catch(() => []);
        return list.length ? list : undefined;
      },
      30_000,
    );
    const polls = await eventually(
      "the demo's polls",
      async () => {
        const list = await listAllPolls(client, { sessionId: 'default' });
        return list.length >= chats.length ? list : undefined;
      },
      30_000,
    );
    await expectCountsOfLedger(
      server.url,
      client,
      'default',
      polls.map((p) => p.id),
    );
  });
});
