import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPollMastersClient } from '@pollmasters/client';
import { dataLayout } from '@pollmasters/worker';
import { expect, it } from 'vitest';
import { spawnServer } from './helpers/childServer.js';
import { sessionPaths } from './helpers/dataDir.js';
import { countedAsLedger } from './helpers/ledger.js';
import { pgTestDatabase } from './helpers/pgTestDatabase.js';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer } from './helpers/server.js';
import { worldOf } from './helpers/tracked.js';
import { sessionStatus } from './helpers/wait.js';

// Issue #22: POLLMASTERS_DATABASE_URL puts the store in PostgreSQL: the sandbox's votes are
// counted exactly, kept across a restart, and no SQLite database is written in the data dir.

const SANDBOX = { voteDelayMs: { min: 5, max: 40 }, seed: 22, membersPerGroup: 8 };
const world = worldOf(SANDBOX);
const groups = world.chats.filter((c) => c.kind === 'group');

const database = pgTestDatabase('issue22store');

const rowsOf = async (table: string) =>
  (
    await database.admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${table} WHERE session_id = 'default'`,
    )
  ).rows[0]!.n;

it('counts the sandbox votes exactly in PostgreSQL, keeps them and the registry across a restart, writes no SQLite', async () => {
  const start = async (dataDir?: string) => {
    const server = await startTestServer({
      sandbox: SANDBOX,
      config: { databaseUrl: database.url },
      ...(dataDir ? { dataDir } : {}),
    });
    await sessionStatus(server.session, 'ready', 15_000);
    return { server, probe: new SandboxProbe(server.sandboxChannel) };
  };

  const first = await start();
  const { dataDir } = first.server;
  const ids: string[] = [];
  try {
    // Polls from the phone (the poll arrives, then its members vote) in two groups.
    for (const group of groups.slice(0, 2)) {
      const sent = await first.probe.createPoll({
        chatId: group.id,
        name: `Where to, ${group.id}?`,
        options: ['Lake', 'Hills', 'Town'],
      });
      ids.push(sent.id);
    }
    await first.probe.settled(ids);
    const counted = await countedAsLedger(first.server.session, first.probe, ids);
    const votes = counted.reduce((n, c) => n + c.poll.voters.length, 0);
    expect(votes).toBeGreaterThan(4);

    // Stored in PostgreSQL: the polls, their votes and the login.
    expect(await rowsOf('polls')).toBe(ids.length);
    expect(await rowsOf('vote_log')).toBeGreaterThanOrEqual(votes);
    expect(await rowsOf('auth_creds')).toBe(1);
  } finally {
    first.probe.close();
    await first.server.stop();
  }
  // The registry of sessions is the `sessions` table, not sessions.json.
  const registered = await database.admin.query<{ id: string }>(
    'SELECT id FROM sessions ORDER BY position',
  );
  expect(registered.rows).toEqual([{ id: 'default' }]);
  expect(existsSync(dataLayout.registryFile(dataDir))).toBe(false);
  // Nothing of the store went to the data dir's SQLite.
  const paths = sessionPaths(dataDir);
  expect(existsSync(paths.database)).toBe(false);
  const sqliteFiles = readdirSync(dataDir, { recursive: true, encoding: 'utf8' }).filter((f) =>
    /\.sqlite(-wal|-shm)?$/.test(f),
  );
  expect(sqliteFiles).toEqual([]);

  // Started again: the same login (no new QR scan needed) and every vote, as the ledger says.
  const second = await start(dataDir);
  try {
    const again = await countedAsLedger(second.server.session, second.probe, ids);
    expect(again.map((c) => c.poll.id)).toEqual(ids);
    expect(existsSync(paths.database)).toBe(false);
    expect(second.server.sessions.list().map((s) => s.record.id)).toEqual(['default']);
  } finally {
    second.probe.close();
    await second.server.destroy();
  }
});

it('keeps named sessions in PostgreSQL; deleting one drops its login, with purge all of its rows', async () => {
  const server = await startTestServer({ sandbox: SANDBOX, config: { databaseUrl: database.url } });
  const client = createPollMastersClient({ url: server.url });
  const rowsOfSession = async (table: string, id: string) =>
    (
      await database.admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${table} WHERE session_id = $1`,
        [id],
      )
    ).rows[0]!.n;
  try {
    for (const id of ['kept', 'purged']) {
      await client.sessions.create.mutate({ id, start: true });
      await sessionStatus(server.sessions.require(id).service, 'ready', 15_000);
      const [chat] = await client.chats.list.query({ sessionId: id });
      await client.polls.send.mutate({
        sessionId: id,
        chatIds: [chat!.id],
        question: `Poll of ${id}`,
        options: ['Yes', 'No'],
      });
      expect(await rowsOfSession('polls', id)).toBe(1);
    }
    const registered = await database.admin.query<{ id: string }>(
      'SELECT id FROM sessions ORDER BY position',
    );
    expect(registered.rows.map((r) => r.id)).toEqual(['default', 'kept', 'purged']);

    await client.sessions.delete.mutate({ id: 'kept' });
    expect(await rowsOfSession('auth_creds', 'kept')).toBe(0);
    expect(await rowsOfSession('auth_keys', 'kept')).toBe(0);
    expect(await rowsOfSession('polls', 'kept')).toBe(1);

    await client.sessions.delete.mutate({ id: 'purged', purge: true });
    for (const table of ['auth_creds', 'auth_keys', 'polls', 'vote_log', 'chats']) {
      expect(await rowsOfSession(table, 'purged')).toBe(0);
    }
    const left = await database.admin.query<{ id: string }>(
      'SELECT id FROM sessions ORDER BY position',
    );
    expect(left.rows.map((r) => r.id)).toEqual(['default']);
    // The default session's data is untouched.
    expect(await rowsOfSession('auth_creds', 'default')).toBe(1);
  } finally {
    await client.close();
    await server.destroy();
  }
});

it('does not start when PostgreSQL cannot be reached: one line naming where, without the password', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pollmasters-nodb-'));
  try {
    // Port 1 on loopback: nothing listens there.
    const url = 'postgres://pollmasters:s3cret-pw@127.0.0.1:1/pollmasters';
    const error = await spawnServer(['--sandbox', '--data-dir', dataDir], {
      POLLMASTERS_DATABASE_URL: url,
      LOG_LEVEL: 'silent',
    }).then(
      () => new Error('the server started'),
      (err: Error) => err,
    );
    expect(error.message).toMatch(/the server exited \(1\)/);
    expect(error.message).toContain(
      'could not start: PostgreSQL at 127.0.0.1:1/pollmasters (POLLMASTERS_DATABASE_URL): connect ECONNREFUSED',
    );
    expect(error.message).not.toContain('s3cret-pw');
    expect(existsSync(dataLayout.registryFile(dataDir))).toBe(false);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
