import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { sessionPaths } from './helpers/dataDir.js';
import { countedAsLedger } from './helpers/ledger.js';
import { SandboxProbe } from './helpers/sandbox.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sessionStatus } from './helpers/wait.js';

// Issue 18: a data dir from before sessions becomes the session `default`, login and all.

const servers: TestServer[] = [];
const probes: SandboxProbe[] = [];
afterEach(async () => {
  for (const p of probes.splice(0)) p.close();
  for (const s of servers.splice(0)) await s.destroy();
});

const sandbox = { voteDelayMs: { min: 5, max: 40 }, seed: 11 };

/**
 * Puts a data dir back in the layout of the versions before sessions, which kept the same
 * files (written by the same store and sandbox code) in the data dir itself.
 */
const toLegacyLayout = (dataDir: string) => {
  const session = sessionPaths(dataDir);
  for (const suffix of ['', '-wal', '-shm']) {
    const file = `${session.database}${suffix}`;
    if (existsSync(file)) renameSync(file, join(dataDir, `default.sqlite${suffix}`));
  }
  for (const name of readdirSync(session.sandbox)) {
    renameSync(join(session.sandbox, name), join(dataDir, name));
  }
  rmSync(join(dataDir, 'sessions'), { recursive: true });
  rmSync(join(dataDir, 'sessions.json'));
};

it('upgrades a data dir from before sessions: logged in without a QR, every poll and vote kept', async () => {
  const first = await startTestServer({ sandbox });
  servers.push(first);
  const probe = new SandboxProbe(first.sandboxChannel);
  probes.push(probe);
  await sessionStatus(first.session, 'ready', 15_000);
  const chats = (await first.session.listChats()).slice(0, 3);
  const ids: string[] = [];
  for (const chat of chats) {
    const poll = await first.session.sendPoll({
      chatId: chat.id,
      question: `Before the upgrade: ${chat.name}?`,
      options: ['Yes', 'No', 'Maybe'],
      selectableCount: 1,
    });
    ids.push(poll.id);
  }
  const counted = (await countedAsLedger(first.session, probe, ids)).map((c) => c.poll);
  expect(counted.reduce((n, p) => n + p.voters.length, 0)).toBeGreaterThan(5);
  const before = first.session.listPolls();
  await first.stop();

  toLegacyLayout(first.dataDir);
  expect(readdirSync(first.dataDir)).toContain('default.sqlite');
  expect(readdirSync(first.dataDir)).toContain('ledger.jsonl');

  // A QR would never be scanned in this test's time: ready means the old login was used.
  const upgraded = await startTestServer({
    dataDir: first.dataDir,
    sandbox: { ...sandbox, qrScanDelayMs: 600_000 },
  });
  servers.push(upgraded);
  const again = new SandboxProbe(upgraded.sandboxChannel);
  probes.push(again);
  await sessionStatus(upgraded.session, 'ready', 15_000);
  expect(upgraded.session.listPolls()).toEqual(before);
  // The sandbox network's state moved with it: its ledger still knows every vote.
  await countedAsLedger(upgraded.session, again, ids);

  const session = sessionPaths(first.dataDir);
  expect(existsSync(session.database)).toBe(true);
  expect(existsSync(join(session.sandbox, 'ledger.jsonl'))).toBe(true);
  const top = readdirSync(first.dataDir).sort();
  expect(top).toEqual(['sessions', 'sessions.json']);
});
