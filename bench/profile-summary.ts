import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/* Self time per function of each V8 .cpuprofile in a folder (from BENCH_CPU_PROF): where a thread spends its time. */
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}
const dir = process.argv[2] ?? '.';
for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: Node[] };
  const total = profile.nodes.reduce((n, node) => n + node.hitCount, 0);
  const self = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = `${functionName || '(anonymous)'} ${url.replace(/.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '').replace(/.*\/work\/main\//, '')}:${lineNumber}`;
    self.set(where, (self.get(where) ?? 0) + node.hitCount);
  }
  console.log(`\n${file}: ${total} samples`);
  for (const [where, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(`${((hits / total) * 100).toFixed(1).padStart(5)}%  ${where}`);
  }
}
