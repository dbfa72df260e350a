import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tallyPoll } from '@pollmasters/shared';
import { dataLayout } from '@pollmasters/worker';
import { type PreparedVotes, prepareVotes } from '@pollmasters/worker/sandbox';
import Database from 'better-sqlite3';
import { buildPackages, transpile } from '../scripts/build.js';
import { DIST_CONDITION, HEAP_FLAGS, SERVER_ENV } from '../scripts/launcher.js';
import { Clients, Phase } from './clients.js';
import { type FromServer, OPTIONS, type Tally, type ToServer, VOTERS } from './protocol.js';
import { fmt, mb, printTable } from './table.js';

/*
 * `pnpm bench`: the vote pipeline end to end (sandbox -> worker -> API -> a tRPC and a
 * Socket.IO client) against Baileys' raw decryption and the naive recipe. Prints a table;
 * exits non-zero when any count anywhere is not exact.
 * See docs/performance.md for what each line means and the figures on record.
 */

const LATENCY_POLLS = 10;
const LATENCY_RATE = 2_000;
const LOAD_POLLS = Number(process.env.BENCH_LOAD_POLLS ?? 100);
const TARGETS = { votesPerSec: 20_000, p99Ms: 50, naiveRatio: 10, peakRssMb: 250 };

const failures: string[] = [];
const rows: [string, string, string][] = [];
const row = (what: string, value: string, target = '') => rows.push([what, value, target]);
const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const verdict = (ok: boolean, target: string) => `${target} ${ok ? 'ok' : 'MISSED'}`;
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

/**
 * How the server process runs: from the build (`pnpm build`: JavaScript, as `pnpm start` runs
 * it), or with BENCH_FROM_SOURCE=1 from TypeScript through tsx, as the tests run it.
 */
const FROM_SOURCE = process.env.BENCH_FROM_SOURCE === '1';
let serverCommand: string[] = [];
const prepareServer = async () => {
  // BENCH_NODE_FLAGS come after the server's own flags, so they override them.
  const flags = [
    ...HEAP_FLAGS,
    ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
  ];
  if (FROM_SOURCE) {
    serverCommand = [...flags, '--import', 'tsx', join(import.meta.dirname, 'server.ts')];
    return;
  }
  await buildPackages();
  const out = join(import.meta.dirname, 'dist');
  await transpile([join(import.meta.dirname, 'server.ts')], import.meta.dirname, out);
  serverCommand = [...flags, DIST_CONDITION, join(out, 'server.js')];
};

/** The server under test in its own process; requests and answers over IPC. */
class ServerProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, (m: FromServer) => void>();
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly startupMs: number,
  ) {
    child.on('message', (m: FromServer) => {
      if ('id' in m) this.waiting.get(m.id)?.(m);
    });
  }

  static start(dataDir: string, channel: string): Promise<ServerProcess> {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [
        // BENCH_CPU_PROF=<dir>: a V8 CPU profile per thread of the server (main and worker).
        ...(process.env.BENCH_CPU_PROF
          ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
          : []),
        ...serverCommand,
        dataDir,
        channel,
      ],
      {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        serialization: 'advanced',
        // The server's environment, as bin/pollmasters sets it; the bench's own overrides it.
        env: { ...SERVER_ENV, ...process.env },
      },
    );
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`server exited early (${code})`)));
      child.once('message', (m: FromServer) => {
        if (m.type !== 'ready') return reject(new Error(`unexpected ${m.type}`));
        child.removeAllListeners('exit');
        resolve(new ServerProcess(child, m.url, performance.now() - started));
      });
    });
  }

  request<T extends FromServer['type']>(
    message: ToServer extends infer M ? (M extends ToServer ? Omit<M, 'id'> : never) : never,
    expect: T,
    timeoutMs = 150_000,
  ): Promise<Extract<FromServer, { type: T }>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${message.type}: no answer`)), timeoutMs);
      this.waiting.set(id, (m) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if (m.type === 'error') reject(new Error(`${message.type}: ${m.message}`));
        else if (m.type !== expect) reject(new Error(`${message.type}: got ${m.type}`));
        else resolve(m as Extract<FromServer, { type: T }>);
      });
      this.child.send({ ...message, id });
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    await this.request({ type: 'stop' }, 'stopped', 20_000).catch(() => this.child.kill());
    await exited;
  }
}

/**
 * VOTERS votes per poll, encrypted here as the voters' phones would (with what the sandbox
 * tells a member of each poll's chat), so that the server only receives and counts them: its
 * CPU time and garbage are the pipeline's; its memory holds the network's queue of these
 * votes once, in shared memory (about 8 MB for 100,000; bench/server.ts).
 */
const prepareBurst = async (
  server: ServerProcess,
  polls: readonly { id: string }[],
  seed: number,
): Promise<PreparedVotes[]> => {
  const { keys } = await server.request(
    { type: 'burstKeys', pollIds: polls.map((p) => p.id) },
    'burstKeys',
  );
  return keys.map((k) => prepareVotes(k, seed, VOTERS));
};

type Expected = Map<string, Tally>;

/** Compares what a reader saw with what the sandbox cast; records every difference. */
const compare = (
  where: string,
  expected: Expected,
  seen: (pollId: string) => Tally | undefined,
) => {
  let wrong = 0;
  for (const [pollId, want] of expected) {
    const got = seen(pollId);
    // Every option's count, and nothing counted under any other name (a raw hash, say).
    const same =
      got?.voters === want.voters &&
      OPTIONS.every((o) => (got.counts[o] ?? 0) === (want.counts[o] ?? 0)) &&
      Object.keys(got.counts).every((name) => OPTIONS.includes(name));
    if (!same) {
      wrong += 1;
      if (wrong <= 3) {
        failures.push(
          `${where}: poll ${pollId}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`,
        );
      }
    }
  }
  if (wrong > 3) failures.push(`${where}: ${wrong} polls wrong in all`);
  return wrong === 0;
};

/** Counts per poll as the worker stored them in its SQLite file. */
const countsInDatabase = (dataDir: string) => {
  const sessionDir = dataLayout.sessionDir(dataDir, 'default');
  const db = new Database(join(sessionDir, `${dataLayout.databaseName}.sqlite`), {
    readonly: true,
  });
  try {
    const hashes = new Map<string, string>();
    for (const p of db
      .prepare<[], { id: string; options: string }>('SELECT id, options FROM polls')
      .all()) {
      for (const o of JSON.parse(p.options) as { name: string; hash: string }[]) {
        hashes.set(`${p.id}/${o.hash}`, o.name);
      }
    }
    const out = new Map<string, Tally>();
    const rowsOf = db.prepare<[], { poll_id: string; selected: string }>(
      'SELECT poll_id, selected FROM votes',
    );
    for (const v of rowsOf.iterate()) {
      const selected = JSON.parse(v.selected) as string[];
      if (selected.length === 0) continue;
      const entry = out.get(v.poll_id) ?? { voters: 0, counts: {} };
      entry.voters += 1;
      for (const h of selected) {
        const name = hashes.get(`${v.poll_id}/${h}`) ?? h;
        entry.counts[name] = (entry.counts[name] ?? 0) + 1;
      }
      out.set(v.poll_id, entry);
    }
    return out;
  } finally {
    db.close();
  }
};

/** Counts per poll from the server's read model (tRPC `polls.list`). */
const countsOverTrpc = async (clients: Clients) => {
  const out = new Map<string, Tally>();
  for (const poll of await clients.trpc.polls.list.query()) {
    out.set(poll.id, { voters: poll.voters.length, counts: tallyPoll(poll) });
  }
  return out;
};

async function main(): Promise<void> {
  const benchStarted = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'pollmasters-bench-'));
  const channel = `pollmasters-bench-${process.pid}`;
  let server: ServerProcess | undefined;
  let clients: Clients | undefined;
  try {
    // 1. Baselines, alone on the machine; measured again after the load (see `baselines`).
    const baselines = () => {
      log('raw decryptPollVote and the naive recipe (bench/baselines.ts) ...');
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'baselines.ts')],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const measured = JSON.parse(out) as { raw: number; naive: number; exact: boolean };
      if (!measured.exact) failures.push('naive recipe: its own count is wrong');
      return measured;
    };
    const baselinesBefore = baselines();
    /** Closes the clients, then stops the server (nothing of either left running). */
    const stopBoth = async () => {
      await clients?.close();
      clients = undefined;
      await server?.stop();
      server = undefined;
    };

    // 2. The server, and its clients.
    log(`starting the server (${FROM_SOURCE ? 'TypeScript source, tsx' : 'the build'}) ...`);
    await prepareServer();
    server = await ServerProcess.start(dataDir, channel);
    const firstStartupMs = server.startupMs;
    clients = new Clients(server.url);
    await clients.connect();
    const latencyPolls = (
      await server.request(
        { type: 'createPolls', count: LATENCY_POLLS, prefix: 'Latency', options: OPTIONS },
        'polls',
      )
    ).polls;
    const loadPolls = (
      await server.request(
        { type: 'createPolls', count: LOAD_POLLS, prefix: 'Load', options: OPTIONS },
        'polls',
      )
    ).polls;
    const expected: Expected = new Map();

    // 3. Latency at a fixed rate.
    log(`latency: ${fmt(LATENCY_POLLS * VOTERS)} votes at ${fmt(LATENCY_RATE)}/s ...`);
    const latencyVotes = await prepareBurst(server, latencyPolls, 11);
    const latency = new Phase(new Map(latencyPolls.map((p) => [p.id, VOTERS])), true);
    clients.watch(latency);
    const latencyBurst = server.request(
      { type: 'burst', votes: latencyVotes, ratePerSec: LATENCY_RATE, batchSize: 500 },
      'burst',
    );
    const latencyResult = (await latencyBurst).result;
    await latency
      .done(30_000)
      .catch((err: Error) => failures.push(`latency phase: ${err.message}`));
    for (const [id, r] of Object.entries(latencyResult.polls)) expected.set(id, r);

    // 4. Throughput: 100 polls x 1,000 voters, as fast as the sandbox can inject.
    log(`throughput: ${fmt(LOAD_POLLS * VOTERS)} votes unthrottled ...`);
    const loadVotes = await prepareBurst(server, loadPolls, 22);
    const before = await server.request({ type: 'usage' }, 'usage');
    const benchCpuBefore = process.cpuUsage();
    const load = new Phase(new Map(loadPolls.map((p) => [p.id, VOTERS])));
    clients.watch(load);
    const loadBurst = server.request({ type: 'burst', votes: loadVotes, batchSize: 500 }, 'burst');
    const progress = setInterval(() => {
      log(
        `  tRPC ${fmt(load.trpcChanges)}/${fmt(load.total)} changes, Socket.IO ${fmt(clients?.socketPayloads ?? 0)} payloads`,
      );
    }, 5_000);
    const loadResult = await loadBurst.then((r) => r.result).finally(() => clearInterval(progress));
    await load
      .done(60_000)
      .catch((err: Error) => failures.push(`throughput phase: ${err.message}`));
    log(
      `  after the first injection: injection done ${fmt(loadResult.lastAt - loadResult.firstAt)} ms, ` +
        `tRPC complete ${fmt(load.trpcLastAt - loadResult.firstAt)} ms, Socket.IO complete ` +
        `${fmt(load.socketLastAt - loadResult.firstAt)} ms (${fmt(load.socketPayloads)} full states)`,
    );
    for (const [id, r] of Object.entries(loadResult.polls)) expected.set(id, r);
    const memory = await server.request({ type: 'usage' }, 'usage');
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const cpuPerVote = {
      server: (memory.cpuUs - before.cpuUs) / load.total,
      worker: ((memory.workerActiveMs - before.workerActiveMs) * 1000) / load.total,
      clients: (benchCpu.user + benchCpu.system) / load.total,
    };

    // 5. Every count, everywhere: both clients, the read model, the database, after a restart.
    const phaseExpected = (phase: Phase): Expected =>
      new Map([...phase.votes.keys()].map((id) => [id, expected.get(id)!]));
    for (const phase of [latency, load]) {
      compare('tRPC subscriber', phaseExpected(phase), (id) => phase.trpcFinal.get(id));
      compare('Socket.IO client', phaseExpected(phase), (id) => phase.socketFinal.get(id));
    }
    const readModel = await countsOverTrpc(clients);
    compare('read model (polls.list)', expected, (id) => readModel.get(id));
    // Not part of the target (holding the votes): what one client listing every poll with
    // every voter adds on top, reported so that nobody mistakes it for the peak above.
    const afterRead = await server.request({ type: 'usage' }, 'usage');
    await stopBoth();
    const stored = countsInDatabase(dataDir);
    compare('SQLite', expected, (id) => stored.get(id));

    // The machine's speed drifts during a run (other tenants): the baselines again, alone on
    // it as at the start, and the ratios taken to their mean.
    const baselinesAfter = baselines();
    const raw = (baselinesBefore.raw + baselinesAfter.raw) / 2;
    const naive = (baselinesBefore.naive + baselinesAfter.naive) / 2;

    log('restarting on the stored votes ...');
    server = await ServerProcess.start(dataDir, channel);
    const restartMs = server.startupMs;
    clients = new Clients(server.url);
    await clients.connect();
    const reloaded = await countsOverTrpc(clients);
    compare('after restart', expected, (id) => reloaded.get(id));
    await stopBoth();

    // 6. The table.
    const endToEnd =
      load.total / ((Math.max(load.trpcLastAt, load.socketLastAt) - loadResult.firstAt) / 1000);
    const trpcOnly = load.total / ((load.trpcLastAt - loadResult.firstAt) / 1000);
    const injectRate = load.total / ((loadResult.lastAt - loadResult.firstAt) / 1000);
    const p50 = percentile(latency.trpcLatency, 50);
    const p99 = percentile(latency.trpcLatency, 99);
    const sp50 = percentile(latency.socketLatency, 50);
    const sp99 = percentile(latency.socketLatency, 99);
    const peakMb = mb(memory.peakRssBytes);

    row(
      'raw decryptPollVote (Baileys, alone; before, after)',
      `${fmt(raw)} votes/s (${fmt(baselinesBefore.raw)}, ${fmt(baselinesAfter.raw)})`,
    );
    row(
      `naive recipe (${fmt(VOTERS)}-voter poll; before, after)`,
      `${fmt(naive)} votes/s (${fmt(baselinesBefore.naive)}, ${fmt(baselinesAfter.naive)})`,
    );
    row(
      `end to end, ${LOAD_POLLS} polls x ${fmt(VOTERS)} voters`,
      `${fmt(endToEnd)} votes/s`,
      verdict(endToEnd >= TARGETS.votesPerSec, `>= ${fmt(TARGETS.votesPerSec)}`),
    );
    row('  to the tRPC subscriber', `${fmt(trpcOnly)} votes/s`);
    row('  sandbox injection rate', `${fmt(injectRate)} votes/s`);
    row(
      '  end to end / naive',
      `${fmt(endToEnd / naive, 1)}x`,
      verdict(endToEnd / naive >= TARGETS.naiveRatio, `>= ${TARGETS.naiveRatio}x`),
    );
    row('  end to end / raw decrypt', `${fmt(endToEnd / raw, 2)}x`);
    row(
      '  CPU per vote: server (worker busy) / bench clients',
      `${fmt(cpuPerVote.server, 1)} (${fmt(cpuPerVote.worker, 1)}) / ${fmt(cpuPerVote.clients, 1)} us`,
    );
    row(
      `latency at ${fmt(LATENCY_RATE)}/s, tRPC p50 / p99`,
      `${fmt(p50, 1)} / ${fmt(p99, 1)} ms`,
      verdict(p99 <= TARGETS.p99Ms, `p99 <= ${TARGETS.p99Ms} ms`),
    );
    row(
      `latency at ${fmt(LATENCY_RATE)}/s, Socket.IO p50 / p99`,
      `${fmt(sp50, 1)} / ${fmt(sp99, 1)} ms`,
    );
    row(
      `latency under full load, tRPC p50 / p99`,
      `${fmt(percentile(load.trpcLatency, 50), 0)} / ${fmt(percentile(load.trpcLatency, 99), 0)} ms`,
    );
    row(
      'peak RSS of the server process',
      `${fmt(peakMb, 0)} MB`,
      verdict(peakMb <= TARGETS.peakRssMb, `<= ${TARGETS.peakRssMb} MB`),
    );
    row(
      '  RSS / heap after the load',
      `${fmt(mb(memory.rssBytes), 0)} / ${fmt(mb(memory.heapUsedBytes), 0)} MB`,
    );
    row(
      '  peak RSS once polls.list has read everything',
      `${fmt(mb(afterRead.peakRssBytes), 0)} MB`,
    );
    row('startup to ready (spawn -> WhatsApp open)', `${fmt(firstStartupMs, 0)} ms`);
    row(`restart to ready, ${fmt(expected.size)} polls stored`, `${fmt(restartMs, 0)} ms`);
    row(
      'counts exact (clients, read model, SQLite, restart)',
      failures.length === 0 ? 'yes' : 'NO',
    );
    row('bench run time', `${fmt((performance.now() - benchStarted) / 1000, 1)} s`);
    printTable(rows, failures);
  } finally {
    await clients?.close().catch(() => {});
    await server?.stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// `pnpm bench -- sessions`: many accounts on one server (./sessions.ts) instead;
// `pnpm bench -- webhooks`: votes/s with webhook receivers against none (./webhooks.ts).
const mode = process.argv.slice(2).find((a) => a !== '--');
const run =
  mode === 'sessions'
    ? import('./sessions.js').then(async ({ sessionsBench }) => {
        failures.push(...(await sessionsBench()));
      })
    : mode === 'webhooks'
      ? import('./webhooks.js').then(async ({ webhooksBench }) => {
          failures.push(...(await webhooksBench()));
        })
      : main();
run.then(
  () => process.exit(failures.length === 0 ? 0 : 1),
  (err: Error) => {
    console.error(`bench failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
