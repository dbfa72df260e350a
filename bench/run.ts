/*
 * `pnpm bench [-- <mode>]`: which bench runs. Each mode is a module of its own that prints its
 * table and returns its failures; the process exits non-zero when there is any (a count that
 * is not exact, a target missed where the mode enforces one). See docs/performance.md.
 *
 * - (none): the vote pipeline end to end against Baileys' raw decryption (./pipeline.ts);
 *   `--profile` adds the top functions of the server's threads.
 * - `sessions`: many accounts on one server (./sessions.ts).
 * - `restart`: restart time and RSS with 100,000 and 1,000,000 stored votes (./restart.ts).
 * - `webhooks`: votes/s with webhook receivers against none (./webhooks.ts).
 * - `cluster`: votes/s of one node on SQLite, one on PostgreSQL, three on PostgreSQL + Redis
 *   (./cluster.ts).
 */

const modes: Record<string, () => Promise<string[]>> = {
  '': () => import('./pipeline.js').then((m) => m.pipelineBench()),
  sessions: () => import('./sessions.js').then((m) => m.sessionsBench()),
  restart: () => import('./restart.js').then((m) => m.restartBench()),
  webhooks: () => import('./webhooks.js').then((m) => m.webhooksBench()),
  cluster: () => import('./cluster.js').then((m) => m.clusterBench()),
};

const mode = process.argv.slice(2).find((a) => a !== '--' && !a.startsWith('--')) ?? '';
const run = modes[mode];
if (!run) {
  console.error(`bench: unknown mode "${mode}" (${Object.keys(modes).filter(Boolean).join(', ')})`);
  process.exit(2);
}
run().then(
  (failures) => process.exit(failures.length === 0 ? 0 : 1),
  (err: Error) => {
    console.error(`bench failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
