import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPollMastersClient } from '@pollmasters/client';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { pgTestDatabase } from './helpers/pgTestDatabase.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { freshRedisPrefix, testRedisUrl } from './helpers/services.js';
import { eventually, sessionStatus } from './helpers/wait.js';

// Issue #22, "any node serves any client": a logout and a pairing code asked of a node that
// does not run the session are done by the node that does (its lease holder), and every node
// then tells the same state. Two server nodes in this process, one store, one Redis.

// The simulated phone takes its time to link: long enough to ask for a pairing code first.
const SANDBOX = { autoVote: false, qrScanDelayMs: 2_500 };
const database = pgTestDatabase('forwardedlogin');
const space = freshRedisPrefix('forwarded_login');
const dataDir = mkdtempSync(join(tmpdir(), 'pollmasters-forwarded-'));
let owner: TestServer;
let other: TestServer;

const node = (nodeId: string) =>
  startTestServer({
    dataDir,
    sandbox: SANDBOX,
    config: {
      databaseUrl: database.url,
      redisUrl: testRedisUrl,
      redisPrefix: space.prefix,
      nodeId,
      workers: 1,
    },
  });

beforeAll(async () => {
  // node-a starts alone and takes the session; node-b (ranked after it, one session) never does.
  owner = await node('node-a');
  await sessionStatus(owner.session, 'ready', 20_000);
  other = await node('node-b');
  await sessionStatus(other.session, 'ready', 10_000);
  // Its first decision (a scan after it joined) notes who runs the session.
  await eventually('node-b to see node-a run it', () => other.session.runsOn === 'node-a');
}, 60_000);

afterAll(async () => {
  await Promise.all([other?.stop(), owner?.stop()]);
  await space.clear();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The login the owner's worker keeps in the shared store. */
const storedLogin = async () => {
  const { rows } = await database.admin.query<{ creds: { me?: unknown; pairingCode?: string } }>(
    "SELECT value::json AS creds FROM auth_creds WHERE session_id = 'default'",
  );
  return rows[0]!.creds;
};

it('logs the session out and gets its pairing code on its owner when asked through another node', {
  timeout: 60_000,
}, async () => {
  const client = createPollMastersClient({ url: other.url });
  try {
    // node-b runs nothing of it: what it answers below can only come from node-a.
    expect(other.session.workerState).toBe('stopped');
    expect(await storedLogin()).toHaveProperty('me');

    // Logged in: the owner refuses a pairing code, and node-b brings back its refusal.
    await expect(
      client.sessions.login.mutate({ id: 'default', phoneNumber: '+49 170 1234567' }),
    ).rejects.toMatchObject({
      message: 'already logged in; log out first',
      data: { code: 'CONFLICT' },
    });

    // node-b reads the session's stream late (as under load): the owner's reply to the logout
    // comes before the logout's events do.
    const apply = other.session.applyReport.bind(other.session);
    const lagging = vi
      .spyOn(other.session, 'applyReport')
      .mockImplementation((report, at) => void setTimeout(() => apply(report, at), 300));
    // Logout through node-b: the owner's worker logs out (its login is wiped in the store),
    // and node-b's answer already tells it, as one node's does.
    const info = await client.sessions.logout.mutate({ id: 'default' });
    expect(info).toMatchObject({ id: 'default', run: 'running', node: 'node-a', user: null });
    expect(['logged_out', 'qr_pending']).toContain(info.status);
    await eventually('the login wiped in the store', async () => !(await storedLogin()).me);
    // Both nodes tell the same: nobody logged in, the owner's fresh QR to pair with.
    const qr = await eventually('a QR on both nodes', () => {
      const [a, b] = [owner.session.sessionState, other.session.sessionState];
      return a.qr !== null && b.qr === a.qr && a.qr;
    });
    expect(other.session.sessionState).toEqual({ status: 'qr_pending', qr, user: null });
    lagging.mockRestore();

    // A pairing code through node-b is the owner's: the one its worker stored with the login.
    const login = await client.sessions.login.mutate({
      id: 'default',
      phoneNumber: '+49 170 1234567',
    });
    expect(login).toMatchObject({ method: 'pairingCode', code: expect.any(String) });
    const { code } = login as { code: string };
    await eventually(
      'the owner to store the pairing code',
      async () => (await storedLogin()).pairingCode === code,
    );
    // The phone takes the code: ready again on both nodes.
    await Promise.all([
      sessionStatus(owner.session, 'ready'),
      sessionStatus(other.session, 'ready'),
    ]);
  } finally {
    client.close();
  }
});
