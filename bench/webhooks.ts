import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer } from '@pollmasters/api';
import { createPollMastersClient } from '@pollmasters/client';
import { tallyPoll } from '@pollmasters/shared';
import { prepareVotes, SandboxProbe } from '@pollmasters/worker/sandbox';
import { pino } from 'pino';
import { benchConfig } from './benchConfig.js';
import { fmt, printTable } from './table.js';

/*
 * `pnpm bench -- webhooks`: votes/s with a webhook receiver subscribed to every event against
 * none. The same burst (BENCH_WEBHOOK_VOTES votes over two polls, unthrottled) is counted with
 * no endpoint, with a receiver that answers 200 at once (every vote sent), one that answers 500
 * (retried with the default backoff), and one that never answers (one request hangs, the rest
 * waits in the outbox): each case in turn, three rounds, the best of each kept (the machine's
 * other tenants come and go). The receivers run in a process of their own; the server in this
 * one, as ./sessions.ts runs it. Every count is checked against the sandbox's. See
 * docs/performance.md, "Webhooks".
 */

const VOTES = Number(process.env.BENCH_WEBHOOK_VOTES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_WEBHOOK_ROUNDS ?? 3);
const log = (message: string) => process.stderr.write(`[bench webhooks] ${message}\n`);

const waitFor = async (what: string, check: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** Three loopback receivers in a child process: `ok` (200), `error` (500), `hang`. */
const RECEIVERS = `
const http = require('node:http');
const make = (answer) => new Promise((resolve) => {
  const s = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => { if (answer !== 'hang') res.writeHead(answer).end(); });
  });
  s.listen(0, '127.0.0.1', () => resolve(s.address().port));
});
Promise.all([make(200), make(500), make('hang')]).then(([ok, error, hang]) =>
  process.stdout.write(JSON.stringify({ ok, error, hang }) + '\\n'));
`;

const startReceivers = () =>
  new Promise<{ ports: { ok: number; error: number; hang: number }; stop: () => void }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, ['-e', RECEIVERS], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child.once('exit', (code) => reject(new Error(`receivers exited (${code})`)));
      child.stdout.once('data', (chunk: Buffer) => {
        child.removeAllListeners('exit');
        resolve({ ports: JSON.parse(chunk.toString()), stop: () => child.kill() });
      });
    },
  );

export async function webhooksBench(): Promise<string[]> {
  const failures: string[] = [];
  const rows: [string, string, string][] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'pollmasters-bench-webhooks-'));
  const channelName = `pollmasters-bench-webhooks-${process.pid}`;
  const config = benchConfig(
    dataDir,
    { channelName, groups: 2, membersPerGroup: 5, directChats: 0 },
    { webhookAllow: '127.0.0.1' },
  );
  let server: RunningServer | undefined;
  const probe = new SandboxProbe(channelName);
  const receivers = await startReceivers();
  try {
    server = await startServer(config, pino({ level: config.logLevel }));
    const { session } = server;
    await waitFor('ready', () => session.sessionState.status === 'ready', 20_000);
    const client = createPollMastersClient({ url: server.url });
    const groups = (await session.listChats()).filter((c) => c.isGroup);

    const run = async (name: string, port?: number) => {
      const endpoint = port
        ? await client.webhooks.create.mutate({ url: `http://127.0.0.1:${port}/hook` })
        : undefined;
      const polls = await Promise.all(
        groups.slice(0, 2).map((g) =>
          session.sendPoll({
            chatId: g.id,
            question: `Webhooks, ${name}?`,
            options: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'],
            selectableCount: 1,
          }),
        ),
      );
      const keys = await probe.burstKeys(polls.map((p) => p.id));
      const votes = keys.map((k, i) => prepareVotes(k, i + 1, VOTES / polls.length));
      const started = performance.now();
      const burst = await probe.castPrepared(votes, { timeoutMs: 300_000 });
      const counted = () =>
        polls.every((p) => session.getPoll(p.id)?.voters.length === burst.polls[p.id]!.voters);
      await waitFor(`${name}: every vote counted`, counted, 300_000);
      const seconds = (performance.now() - started) / 1000;
      for (const p of polls) {
        const got = JSON.stringify(tallyPoll(session.getPoll(p.id)!));
        const want = JSON.stringify(burst.polls[p.id]!.counts);
        if (got !== want) failures.push(`${name}: poll ${p.id} counted ${got}, cast ${want}`);
      }
      const perSec = VOTES / seconds;
      log(`${name}: ${fmt(perSec)} votes/s`);
      if (endpoint) await client.webhooks.delete.mutate({ endpointId: endpoint.id });
      return { perSec };
    };

    // Other tenants of the machine come and go: every case in turn, ROUNDS times, the best of
    // each kept (what the machine let it do when it was least disturbed).
    const cases = [
      ['no endpoint', undefined],
      ['receiver answering 200 (every event sent)', receivers.ports.ok],
      ['receiver answering 500 (retried with backoff)', receivers.ports.error],
      ['receiver that never answers', receivers.ports.hang],
    ] as const;
    const best = new Map<string, number[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, port] of cases) {
        const { perSec } = await run(name, port);
        best.set(name, [...(best.get(name) ?? []), perSec]);
      }
    }
    const base = Math.max(...best.get('no endpoint')!);
    for (const [name] of cases) {
      const all = best.get(name)!;
      const top = Math.max(...all);
      rows.push([
        name === 'no endpoint' ? `no endpoint, ${fmt(VOTES)} votes` : name,
        `${fmt(top)} votes/s (${all.map((v) => fmt(v)).join(', ')})`,
        name === 'no endpoint' ? '' : `${fmt((top / base) * 100)} % of none`,
      ]);
    }
    rows.push(['counts exact against the sandbox', failures.length === 0 ? 'yes' : 'NO', '']);
    await client.close();
  } finally {
    probe.close();
    receivers.stop();
    await server?.close().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
  printTable(rows, failures);
  return failures;
}
