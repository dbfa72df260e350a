import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPollMastersClient, type PollMastersClient } from '@pollmasters/client';
import { afterEach, expect, it } from 'vitest';
import { type ChildServer, spawnServer } from './helpers/childServer.js';
import { sessionPaths } from './helpers/dataDir.js';
import { AckedVotes } from './helpers/votes.js';

const dataDir = mkdtempSync(join(tmpdir(), 'pollmasters-logs-'));
let child: ChildServer | undefined;
let client: PollMastersClient | undefined;
afterEach(async () => {
  await client?.close();
  child?.proc.kill('SIGKILL');
  await child?.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

/** The worker's own better-sqlite3, to read the auth state the way the worker stored it. */
const Database = createRequire(new URL('../packages/worker/package.json', import.meta.url))(
  'better-sqlite3',
) as new (
  file: string,
  options: { readonly: boolean },
) => { prepare(sql: string): { all(): { value: string }[] }; close(): void };

/** Every secret byte string in Baileys' creds: private keys, `advSecretKey`, and the like. */
const credsSecrets = (credsJson: string): string[] => {
  const found: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (typeof value === 'string') {
      if (/private|secret|advSecretKey/i.test(path) && value.length >= 16) found.push(value);
      return;
    }
    if (!value || typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    // BufferJSON: { type: 'Buffer', data: '<base64>' }
    if (record.type === 'Buffer' && typeof record.data === 'string') {
      if (/private|secret/i.test(path)) found.push(record.data);
      return;
    }
    for (const [k, v] of Object.entries(record)) walk(v, `${path}.${k}`);
  };
  walk(JSON.parse(credsJson), 'creds');
  return found;
};

const waitFor = <T>(
  subscribe: (
    resolve: (value: T) => void,
    reject: (err: unknown) => void,
  ) => { unsubscribe(): void },
  what: string,
  timeoutMs = 15_000,
): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    let sub: { unsubscribe(): void } | undefined;
    const timer = setTimeout(() => {
      sub?.unsubscribe();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    sub = subscribe(
      (value) => {
        clearTimeout(timer);
        sub?.unsubscribe();
        resolve(value);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });

it('never logs QR payloads, pairing codes, keys or message secrets at info', async () => {
  child = await spawnServer(['--sandbox', '--data-dir', dataDir], { LOG_LEVEL: 'info' });
  client = createPollMastersClient({ url: child.url });
  const c = client;
  const qrs = new Set<string>();
  const statusIs = (status: string) =>
    waitFor<void>(
      (resolve, reject) =>
        c.session.events.subscribe(
          {},
          {
            onData: ({ data }) => {
              if (data.state.qr) qrs.add(data.state.qr);
              if (data.state.status === status) resolve();
            },
            onError: reject,
          },
        ),
      status,
    );
  await statusIs('ready');

  // A fresh login offer: its QR, and a pairing code for it.
  const qrSeen = statusIs('qr_pending');
  await c.session.logout.mutate();
  await qrSeen;
  const { code } = await c.session.requestPairingCode.mutate({ phoneNumber: '15550001234' });
  await statusIs('ready');

  // Polls sent and voted on, so that secrets, votes and keys were in play.
  const acked = new AckedVotes(c);
  const groups = (await c.chats.list.query()).filter((g) => g.isGroup);
  await c.polls.send.mutate({
    chatIds: groups.map((g) => g.id),
    question: 'Secret?',
    options: ['a', 'b'],
  });
  await acked.atLeast(5);
  acked.close();

  // A clean stop, so that every log line is written.
  child.proc.kill('SIGTERM');
  await child.exited;

  const secrets = new Map<string, string>();
  for (const qr of qrs) {
    secrets.set(`qr ${qr.slice(0, 12)}`, qr);
    // Each comma-separated part of the QR (ref, noise key, identity key, adv secret) alone.
    for (const part of qr.split(',')) if (part.length >= 16) secrets.set(`qr part ${part}`, part);
  }
  secrets.set('pairing code', code);
  const polls = readFileSync(join(sessionPaths(dataDir).sandbox, 'polls.jsonl'), 'utf8')
    .trim()
    .split('\n');
  expect(polls.length).toBeGreaterThan(0);
  for (const line of polls) {
    const { messageSecret } = JSON.parse(line) as { messageSecret: string };
    secrets.set('messageSecret base64', messageSecret);
    secrets.set('messageSecret hex', Buffer.from(messageSecret, 'base64').toString('hex'));
  }
  const db = new Database(sessionPaths(dataDir).database, { readonly: true });
  const creds = db.prepare('SELECT value FROM auth_creds').all();
  const keys = db.prepare('SELECT value FROM auth_keys').all();
  db.close();
  for (const { value } of creds) {
    for (const s of credsSecrets(value)) {
      secrets.set(`creds ${s.slice(0, 6)}`, s);
      secrets.set(`creds hex ${s.slice(0, 6)}`, Buffer.from(s, 'base64').toString('hex'));
    }
  }
  for (const { value } of keys)
    for (const s of credsSecrets(value)) secrets.set(`key ${s.slice(0, 6)}`, s);
  expect(qrs.size).toBeGreaterThan(0);
  expect([...secrets.keys()].some((k) => k.startsWith('creds'))).toBe(true);

  // The logs: pino's JSON lines, of the server and of the worker thread, wherever they went.
  const logLines = `${child.stdout}\n${child.stderr}`
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"level"'));
  const levels = new Set(logLines.map((l) => (JSON.parse(l) as { level: number }).level));
  expect(levels.has(30)).toBe(true);
  expect(logLines.some((l) => l.includes('"sessionId"'))).toBe(true);
  const log = logLines.join('\n');
  for (const [what, secret] of secrets) {
    expect(log.includes(secret), `${what} appears in the log`).toBe(false);
  }
});
