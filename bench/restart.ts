import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataLayout } from '@pollmasters/worker';
import Database from 'better-sqlite3';
import { Clients } from './clients.js';
import { OPTIONS, type Tally, VOTERS } from './protocol.js';
import { countsOverTrpc } from './reads.js';
import { prepareServer, ServerProcess } from './serverProcess.js';
import { fmt, mb, printTable } from './table.js';

/*
 * `pnpm bench -- restart`: how a restart grows with what is stored. The database is filled
 * with 100 polls x 1,000 voters (100,000 votes), then with 1,000 polls x 1,000 voters
 * (1,000,000), written directly as the rows the worker's store writes (the `polls` row of a
 * poll the real server sent, copied; the votes in the order they arrive, round-robin over the
 * polls, in the vote log's batches of 500). The server is then started on it as it always starts (the real
 * replay of the vote log, the snapshot to the API, the read model), and the bench prints the
 * time from spawn to ready and the RSS, and checks every count over tRPC.
 */

const TARGETS = { restartMs: 10_000, rssMb: 400 };
/** Polls stored at each restart (VOTERS votes each); BENCH_RESTART_POLLS=1000 for one step. */
const STEPS = (process.env.BENCH_RESTART_POLLS ?? '100,1000').split(',').map(Number);
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

/** The seeded polls' ids: `3EB0SEED` and a number, so they sort and never clash with real ones. */
const seededId = (n: number) => `3EB0SEED${String(n).padStart(6, '0')}`;
/** Votes per seeded `vote_batches` row: a burst's flush of the store commits about as many. */
const SEED_BATCH = 500;

/**
 * Adds polls `from` .. `to - 1` with VOTERS votes each: copies of the template poll's row (its
 * secret, creator and creation message; a question and time of their own), and their votes in
 * the vote log as the store appends them: voter i of every poll picks option i % 5, so each
 * option has VOTERS / 5 voters in every poll. One transaction; SQLite makes the rows itself.
 */
const seed = (file: string, templateId: string, from: number, to: number) => {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.transaction(() => {
      db.prepare(
        `WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
         INSERT INTO polls (id, chat_id, question, options, selectable_count, created_at, secret,
           creator_jids, message, creator_jid, creator_from_me)
         SELECT '3EB0SEED' || printf('%06d', i), chat_id, 'Seeded ' || i, options,
           selectable_count, created_at - 1000000 + i, secret, creator_jids, message,
           creator_jid, creator_from_me
         FROM polls, n WHERE polls.id = ?`,
      ).run(from, to, templateId);
      db.prepare(
        `INSERT INTO poll_counters (poll_id, unknown_option_votes, version)
         SELECT id, 0, ? FROM polls WHERE id >= ? AND id < ?`,
      ).run(VOTERS, seededId(from), seededId(to));
      // The votes in arrival order, in batches of SEED_BATCH as the store commits them: one
      // `vote_batches` row each (packages/worker/src/store/voteLog.ts), `s` the options as
      // single selections, so that voter i's entry points at option i % 5.
      db.prepare(
        `WITH RECURSIVE v(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM v WHERE i + 1 < ?),
         entries AS (
           SELECT row_number() OVER (ORDER BY v.i, p.id) - 1 AS n, p.id, p.created_at, v.i
           FROM v, (SELECT id, created_at FROM polls WHERE id >= ? AND id < ?) p)
         INSERT INTO vote_batches (votes)
         SELECT json_object(
           's', (SELECT json_group_array(json_array(o.value ->> 'hash'))
                 FROM polls, json_each(polls.options) o WHERE polls.id = ?),
           'v', json_group_array(json_array(id, '1999' || printf('%010d', i) || '@s.whatsapp.net',
             'Voter ' || (i + 1), i % 5, created_at + 1000 + i,
             '3EB0V' || substr(id, 9) || printf('%07d', i)) ORDER BY n))
         FROM entries GROUP BY n / ${SEED_BATCH} ORDER BY n / ${SEED_BATCH}`,
      ).run(VOTERS, seededId(from), seededId(to), templateId);
    })();
  } finally {
    db.close();
  }
};

/** What every seeded poll holds. */
const expectedTally: Tally = {
  voters: VOTERS,
  counts: Object.fromEntries(OPTIONS.map((o) => [o, VOTERS / OPTIONS.length])),
};

export const restartBench = async (): Promise<string[]> => {
  const failures: string[] = [];
  const rows: [string, string, string][] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'pollmasters-bench-restart-'));
  const channel = `pollmasters-bench-restart-${process.pid}`;
  const file = join(dataLayout.sessionDir(dataDir, 'default'), `${dataLayout.databaseName}.sqlite`);
  let server: ServerProcess | undefined;
  let clients: Clients | undefined;
  try {
    await prepareServer();
    // A real server makes the database, logs in, and sends the poll whose row is the template.
    server = await ServerProcess.start(dataDir, channel);
    const [template] = (
      await server.request(
        { type: 'createPolls', count: 1, prefix: 'Template', options: OPTIONS },
        'polls',
      )
    ).polls;
    await server.stop();
    server = undefined;

    let seeded = 0;
    for (const polls of STEPS) {
      const votes = polls * VOTERS;
      log(`seeding ${fmt(polls)} polls x ${fmt(VOTERS)} voters ...`);
      const seedStarted = performance.now();
      seed(file, template!.id, seeded, polls);
      seeded = polls;
      const seedMs = performance.now() - seedStarted;

      log(`restarting on ${fmt(votes)} stored votes ...`);
      server = await ServerProcess.start(dataDir, channel);
      const { startupMs } = server;
      const ready = await server.request({ type: 'usage' }, 'usage');
      clients = await Clients.start(server.url);
      // Apart: the Socket.IO client's `initial_poll_data` (every poll in one event) and the pages.
      const connected = await server.request({ type: 'usage' }, 'usage');
      const seen = await countsOverTrpc(clients);
      const afterRead = await server.request({ type: 'usage' }, 'usage');
      let wrong = 0;
      for (let n = 0; n < polls; n++) {
        const got = seen.get(seededId(n));
        const same =
          got?.voters === expectedTally.voters &&
          OPTIONS.every((o) => got.counts[o] === expectedTally.counts[o]);
        if (!same && ++wrong <= 3) {
          failures.push(`${fmt(votes)} votes: poll ${seededId(n)}: ${JSON.stringify(got)}`);
        }
      }
      if (wrong > 3) failures.push(`${fmt(votes)} votes: ${wrong} polls wrong in all`);
      await clients.close();
      clients = undefined;
      await server.stop();
      server = undefined;

      const label = `${fmt(votes)} votes (${fmt(polls)} polls x ${fmt(VOTERS)})`;
      // The targets are for a million votes; smaller steps show how the cost grows.
      const target = (ok: boolean, what: string) =>
        votes >= 1_000_000 ? `${what} ${ok ? 'ok' : 'MISSED'}` : '';
      rows.push([`${label}: seeded in`, `${fmt(seedMs, 0)} ms`, '']);
      rows.push([
        '  restart to ready (spawn -> WhatsApp open)',
        `${fmt(startupMs, 0)} ms`,
        target(startupMs <= TARGETS.restartMs, `<= ${fmt(TARGETS.restartMs)} ms`),
      ]);
      rows.push([
        '  peak RSS up to ready / RSS at ready',
        `${fmt(mb(ready.peakRssBytes), 0)} / ${fmt(mb(ready.rssBytes), 0)} MB`,
        target(mb(ready.peakRssBytes) <= TARGETS.rssMb, `<= ${TARGETS.rssMb} MB`),
      ]);
      rows.push([
        '  peak RSS once Socket.IO has its initial_poll_data',
        `${fmt(mb(connected.peakRssBytes), 0)} MB`,
        '',
      ]);
      rows.push([
        '  peak RSS once polls.list has read every page',
        `${fmt(mb(afterRead.peakRssBytes), 0)} MB`,
        target(mb(afterRead.peakRssBytes) <= TARGETS.rssMb, `<= ${TARGETS.rssMb} MB`),
      ]);
      const heap = (u: typeof ready) =>
        `${fmt(mb(u.heapUsedBytes), 0)} / ${fmt(mb(u.heapTotalBytes), 0)} / ${fmt(mb(u.externalBytes), 0)}`;
      rows.push([
        '  API thread heap used / total / external MB, at ready; after',
        `${heap(ready)}; ${heap(afterRead)}`,
        '',
      ]);
    }
    rows.push(['counts exact after each restart (polls.list)', failures.length ? 'NO' : 'yes', '']);
    printTable(rows, failures);
    return failures;
  } finally {
    await clients?.close().catch(() => {});
    await server?.stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
};
