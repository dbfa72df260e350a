import { profilesIn, topLines } from './profile.js';

/*
 * Self time per function of each V8 .cpuprofile in a folder (from BENCH_CPU_PROF or
 * `pnpm bench --profile`): where a thread spends its time, as a share of its busy samples.
 * `npx tsx bench/profile-summary.ts <dir> [top]`.
 */
const dir = process.argv[2] ?? '.';
const top = Number(process.argv[3] ?? 25);
for (const thread of profilesIn(dir)) {
  console.log(`\n${thread.file}: ${thread.busy} busy of ${thread.samples} samples`);
  for (const line of topLines(thread, top)) console.log(line);
}
