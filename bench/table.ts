/** A figure for the table: thousands separated, `digits` decimals. */
export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The p-th percentile (0-100) of `values`; NaN when there are none. */
export const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

/** Bytes as MB (MiB). */
export const mb = (bytes: number) => bytes / 1024 / 1024;

/** Prints the bench's table (`what | measured | target`), then each failure on a line. */
export const printTable = (
  rows: readonly [string, string, string][],
  failures: readonly string[],
) => {
  const widths = [0, 1, 2].map((i) =>
    Math.max(...[['what', 'measured', 'target'], ...rows].map((r) => r[i]!.length)),
  );
  const line = (r: readonly string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(['what', 'measured', 'target']));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  for (const failure of failures) console.log(`FAILED: ${failure}`);
};
