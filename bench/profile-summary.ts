import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { profilesIn, topLines, WINDOW_FILE, type Window } from './profile.js';

/*
 * Self time per function of each V8 .cpuprofile in a folder (from BENCH_CPU_PROF or
 * `pnpm bench --profile`): where a thread spends its time, as a share of its busy samples.
 * `npx tsx bench/profile-summary.ts <dir> [top]`. After `pnpm bench --profile` only the
 * throughput phase of the first server process is counted, as the bench's own summary does
 * (the folder's window.json says which).
 */
const dir = process.argv[2] ?? '.';
const top = Number(process.argv[3] ?? 25);
const saved = join(dir, WINDOW_FILE);
const { pid, ...window } = existsSync(saved)
  ? (JSON.parse(readFileSync(saved, 'utf8')) as Window & { pid?: number })
  : { pid: undefined };
const within = 'fromUs' in window ? (window as Window) : undefined;
for (const thread of profilesIn(dir, within, pid)) {
  console.log(`\n${thread.file}: ${thread.busy} busy of ${thread.samples} samples`);
  for (const line of topLines(thread, top)) console.log(line);
}
