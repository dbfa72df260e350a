import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { sessionPaths } from './helpers/dataDir.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sessionStatus } from './helpers/wait.js';

let server: TestServer | undefined;
const parent = mkdtempSync(join(tmpdir(), 'pollmasters-perms-'));
const umask = process.umask();
afterEach(async () => {
  process.umask(umask);
  await server?.destroy();
  rmSync(parent, { recursive: true, force: true });
});

const modeOf = (path: string) => statSync(path).mode & 0o777;

it('creates the data dir owner-only, and every file in it (database, WAL, auth, sandbox state) 0600', async () => {
  // With no umask to help, every mode below is the code's own choice.
  process.umask(0);
  const dataDir = join(parent, 'nested', 'data');
  server = await startTestServer({ dataDir, sandbox: { voteDelayMs: { min: 0, max: 20 } } });
  await sessionStatus(server.session);
  const [chat] = await server.session.listChats();
  await server.session.sendPoll({
    chatId: chat?.id ?? '',
    question: 'Private?',
    options: ['yes', 'no'],
    selectableCount: 1,
  });

  expect(modeOf(dataDir).toString(8)).toBe('700');
  const session = sessionPaths(dataDir);
  const files = readdirSync(dataDir, { recursive: true, encoding: 'utf8' });
  for (const path of [
    session.database,
    `${session.database}-wal`,
    `${session.database}-shm`,
    join(session.sandbox, 'polls.jsonl'),
    join(dataDir, 'sessions.json'),
  ]) {
    expect(files).toContain(relative(dataDir, path));
  }
  for (const name of files) {
    const path = join(dataDir, name);
    if (statSync(path).isDirectory()) expect(modeOf(path).toString(8), name).toBe('700');
    else expect(modeOf(path).toString(8), name).toBe('600');
  }
});
