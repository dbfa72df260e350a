import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connectSocket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { LAUNCHER } from '../scripts/launcher.js';
import { root, spawnServer } from './helpers/childServer.js';
import { fetchLedger, type LedgerAnswer } from './helpers/ledger.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { eventually } from './helpers/wait.js';
import { watchedClient } from './helpers/watchedClient.js';

/** The server runs as its own process: allow it 20 s, ask every 50 ms. */
const asked = <T>(what: string, check: () => Promise<T | undefined | false>) =>
  eventually(what, check, 20_000, 50);

// Issue 6: the real process (as `pnpm start -- --sandbox` runs it) stops on SIGTERM with
// clients connected: it closes them, stores every vote, and exits 0 within 5 s.

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const getJson = async <T>(url: string): Promise<T> => (await fetch(url)).json() as Promise<T>;

interface AllPollData {
  polls: Record<string, { results: Record<string, number> }>;
}

describe('the server process', () => {
  it('on SIGTERM closes Socket.IO and tRPC clients, keeps every vote, exits 0 within 5 s', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pollmasters-shutdown-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const server = await spawnServer(['--sandbox', '--data-dir', dataDir], { LOG_LEVEL: 'info' });
    cleanups.push(() => server.proc.exitCode === null && server.proc.kill('SIGKILL'));
    await asked('ready', async () => {
      const status = await getJson<{ status: string }>(`${server.url}/status`);
      return status.status === 'ready';
    });
    expect(server.stdout).toContain('Scan this QR in WhatsApp');
    expect(server.stdout).toContain('WhatsApp: ready');

    // Polls to every chat; the sandbox's members vote on them.
    const chats = (await getJson<{ chats: { id: string }[] }>(`${server.url}/get-chats`)).chats;
    const pollIds: string[] = [];
    for (const chat of chats) {
      const res = await fetch(`${server.url}/send-poll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          chatId: chat.id,
          question: 'Stop or go?',
          options: ['Stop', 'Go'],
          allowMultipleAnswers: false,
        }),
      });
      pollIds.push(((await res.json()) as { pollMsgId: string }).pollMsgId);
    }
    const settled = await asked('the votes to settle', async () => {
      const ledger = await fetchLedger(server.url);
      return pollIds.every((id) => ledger.pending[id] === 0) ? ledger : undefined;
    });
    // What the server counted before the signal.
    const voters = (ledger: LedgerAnswer, id: string) => Object.keys(ledger.polls[id] ?? {}).length;
    const counted = await asked('the counts', async () => {
      const data = await getJson<AllPollData>(`${server.url}/get-all-poll-data`);
      const ok = pollIds.every((id) => {
        const results = data.polls[id]?.results ?? {};
        return Object.values(results).reduce((a, b) => a + b, 0) === voters(settled, id);
      });
      return ok ? data : undefined;
    });
    expect(pollIds.some((id) => voters(settled, id) > 0)).toBe(true);

    // Clients connected at the signal: one Socket.IO client, one tRPC subscription.
    const socket = connectSocket(server.url, { transports: ['websocket'], reconnection: false });
    cleanups.push(() => socket.close());
    const socketGone = new Promise<string>((r) => socket.once('disconnect', (reason) => r(reason)));
    await new Promise<void>((r) => socket.once('connect', () => r()));
    // The tRPC connection's states, as the client reports them: open, then closed.
    const { client, opened: trpcOpen, closed: trpcClosed } = watchedClient(server.url);
    cleanups.push(() => client.close());
    const sub = client.polls.updates.subscribe(
      { snapshot: false },
      { onData: () => {}, onError: () => {}, onConnectionStateChange: () => {} },
    );
    cleanups.push(() => sub.unsubscribe());
    await trpcOpen;
    const health = await getJson<{ clients: { socketIo: number; trpc: number } }>(
      `${server.url}/healthz`,
    );
    expect(health.clients).toEqual({ socketIo: 1, trpc: 1 });

    const signalledAt = Date.now();
    server.proc.kill('SIGTERM');
    const { code, signal } = await server.exited;
    const tookMs = Date.now() - signalledAt;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(tookMs).toBeLessThan(5_000);
    expect(await socketGone).toBe('io server disconnect');
    await trpcClosed;
    expect(server.stderr).toContain('"msg":"stopped"');
    // The QR payload is a secret: never in the log at info.
    expect(server.stderr).not.toMatch(/"qr":"/);

    // Everything counted before the signal is in the database.
    const again: TestServer = await startTestServer({ dataDir, sandbox: { autoVote: false } });
    cleanups.push(() => again.stop());
    for (const id of pollIds) {
      const poll = again.session.getPoll(id);
      expect(poll, id).toBeDefined();
      const results = Object.fromEntries(
        poll!.options.map((o) => [
          o.name,
          poll!.voters.filter((v) => v.selected.includes(o.hash)).length,
        ]),
      );
      expect(results, id).toEqual(counted.polls[id]!.results);
    }
  });

  it('fails at once with one line and exit code 2 on invalid configuration', async () => {
    const child = spawn(LAUNCHER, ['--port', 'many'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(err).toBe(
      'pollmasters: invalid configuration: --port (PORT): must be a whole number, got "many"\n',
    );
  });
});
