import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type RunningServer, sandboxChannelOf, startServer } from '@pollmasters/api';
import { tallyPoll } from '@pollmasters/shared';
import { SandboxProbe } from '@pollmasters/worker/sandbox';
import { pino } from 'pino';
import { benchConfig } from './benchConfig.js';
import { fmt, mb, printTable } from './table.js';
import { waitFor } from './waitFor.js';

/*
 * `pnpm bench -- sessions`: many accounts on one server. 100 sandbox sessions created and
 * started over HTTP (time from the first create to all ready); the process's RSS idle with
 * one session and with 101 (the marginal memory per session); then 10 sessions voting at once
 * at full rate, votes/s in total, every count checked against each session's sandbox ledger.
 * The server runs in this process (from source, through tsx, as the tests run it), so that its
 * sandbox networks' BroadcastChannels reach the probes; nothing else runs in it while the
 * memory is measured. See docs/performance.md, "Many sessions".
 */

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 100);
const VOTING_SESSIONS = 10;
const VOTES_PER_SESSION = Number(process.env.BENCH_SESSION_VOTES ?? 10_000);
const TARGETS = { readySec: 30, marginalMb: 20 };

const log = (message: string) => process.stderr.write(`[bench sessions] ${message}\n`);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** RSS once the garbage is collected and the threads are idle: the smallest of a few reads. */
const idleRss = async (): Promise<number> => {
  let least = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 400));
    least = Math.min(least, process.memoryUsage().rss);
  }
  return least;
};

const post = async (url: string, body: unknown) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
};

export async function sessionsBench(): Promise<string[]> {
  const failures: string[] = [];
  const rows: [string, string, string][] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'pollmasters-bench-sessions-'));
  const config = benchConfig(
    dataDir,
    {
      channelName: `pollmasters-bench-sessions-${process.pid}`,
      groups: 2,
      membersPerGroup: 5,
      directChats: 1,
    },
    { maxSessions: SESSIONS + 1 },
  );
  let server: RunningServer | undefined;
  const probes: SandboxProbe[] = [];
  try {
    server = await startServer(config, pino({ level: config.logLevel }));
    const running = server;
    await waitFor('default ready', () => running.session.sessionState.status === 'ready', 20_000);
    const rssOne = await idleRss();
    log(`RSS with 1 session: ${fmt(mb(rssOne))} MB`);

    const ids = Array.from({ length: SESSIONS }, (_, i) => `bench-${String(i).padStart(3, '0')}`);
    const started = performance.now();
    await Promise.all(ids.map((id) => post(`${running.url}/api/sessions`, { id, start: true })));
    const services = ids.map((id) => running.sessions.require(id).service);
    await waitFor(
      `${SESSIONS} sessions ready`,
      () => services.every((s) => s.sessionState.status === 'ready'),
      120_000,
    );
    const readySec = (performance.now() - started) / 1000;
    log(`${SESSIONS} sessions ready in ${fmt(readySec, 1)} s`);
    const rssMany = await idleRss();
    const marginalMb = mb(rssMany - rssOne) / SESSIONS;

    // Ten sessions vote at once: a poll each, and every vote of its burst at full rate.
    const voting = services.slice(0, VOTING_SESSIONS);
    const polls = await Promise.all(
      voting.map(async (s) => {
        const chat = (await s.listChats()).find((c) => c.isGroup)!;
        return s.sendPoll({
          chatId: chat.id,
          question: `Which day, ${s.sessionId}?`,
          options: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'],
          selectableCount: 1,
        });
      }),
    );
    for (const s of voting) probes.push(new SandboxProbe(sandboxChannelOf(config, s.sessionId)));
    const votingStarted = performance.now();
    const bursts = await Promise.all(
      voting.map((_, i) =>
        probes[i]!.voteBurst([{ pollId: polls[i]!.id, count: VOTES_PER_SESSION }], {
          seed: i + 1,
          timeoutMs: 300_000,
        }),
      ),
    );
    // Counted once every voter of the burst is in; the counts are checked after.
    const counted = (i: number) => {
      const expected = bursts[i]!.polls[polls[i]!.id]!;
      const poll = voting[i]!.getPoll(polls[i]!.id);
      return !!poll && poll.voters.length === expected.voters;
    };
    await waitFor('every vote counted', () => voting.every((_, i) => counted(i)), 300_000);
    const votingSec = (performance.now() - votingStarted) / 1000;
    let cast = 0;
    for (const [i, s] of voting.entries()) {
      const expected = bursts[i]!.polls[polls[i]!.id]!;
      cast += expected.cast;
      const poll = s.getPoll(polls[i]!.id)!;
      const counts = tallyPoll(poll);
      // What the session's sandbox network says it cast: its ledger of the burst.
      if (JSON.stringify(counts) !== JSON.stringify(expected.counts)) {
        failures.push(
          `${s.sessionId}: counts ${JSON.stringify(counts)}, the ledger says ${JSON.stringify(expected.counts)}`,
        );
      }
    }

    rows.push(
      [
        `${SESSIONS} sessions created and started, first create to all ready`,
        `${fmt(readySec, 1)} s`,
        `<= ${TARGETS.readySec} s ${readySec <= TARGETS.readySec ? 'ok' : 'MISSED'}`,
      ],
      ['RSS idle, 1 session', `${fmt(mb(rssOne))} MB`, ''],
      [`RSS idle, ${SESSIONS + 1} sessions`, `${fmt(mb(rssMany))} MB`, ''],
      [
        'marginal memory per session',
        `${fmt(marginalMb, 1)} MB`,
        `<= ${TARGETS.marginalMb} MB ${marginalMb <= TARGETS.marginalMb ? 'ok' : 'MISSED'}`,
      ],
      [
        `${VOTING_SESSIONS} sessions voting at once, ${fmt(cast)} votes`,
        `${fmt(cast / votingSec)} votes/s`,
        '',
      ],
      ['counts exact against every ledger', failures.length === 0 ? 'yes' : 'NO', ''],
    );
    if (readySec > TARGETS.readySec) failures.push(`ready in ${fmt(readySec, 1)} s`);
    if (marginalMb > TARGETS.marginalMb) failures.push(`${fmt(marginalMb, 1)} MB per session`);
  } finally {
    for (const p of probes) p.close();
    await server?.close().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
  printTable(rows, failures);
  return failures;
}
