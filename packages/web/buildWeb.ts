import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

/** What the first load of the dashboard costs: every file the browser fetches before it runs. */
export interface WebBuildReport {
  /** The files of the first load (index.html, the entry chunk, its static imports, CSS). */
  files: string[];
  bytes: number;
  gzipBytes: number;
}

/** What the dashboard may cost to load, gzipped (issue #20). */
export const FIRST_LOAD_GZIP_TARGET = 300 * 1024;

interface ManifestChunk {
  file: string;
  css?: string[];
  imports?: string[];
  isEntry?: boolean;
}

/** index.html and everything its entry loads at once (not dynamic imports), from Vite's manifest. */
const firstLoadFiles = (outDir: string): string[] => {
  const manifest = JSON.parse(readFileSync(join(outDir, '.vite/manifest.json'), 'utf8')) as Record<
    string,
    ManifestChunk
  >;
  const files = new Set<string>(['index.html']);
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk || files.has(chunk.file)) return;
    files.add(chunk.file);
    for (const css of chunk.css ?? []) files.add(css);
    for (const imported of chunk.imports ?? []) visit(imported);
  };
  for (const [key, chunk] of Object.entries(manifest)) if (chunk.isEntry) visit(key);
  return [...files];
};

/**
 * Builds the dashboard into `outDir` (Vite, production mode) and writes a `.gz` beside each
 * text asset, which the server sends to browsers that accept gzip. Returns the first load's
 * size.
 */
export async function buildWeb(outDir: string): Promise<WebBuildReport> {
  // Vite takes NODE_ENV from the environment when set (vitest sets `test`): React would be
  // bundled in its development build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: join(import.meta.dirname, 'vite.config.ts'),
      mode: 'production',
      build: { outDir, emptyOutDir: true },
    });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  const gzipped = new Map<string, Buffer>();
  for (const name of readdirSync(join(outDir, 'assets'))) {
    if (!/\.(js|css|svg)$/.test(name)) continue;
    const zipped = gzipSync(readFileSync(join(outDir, 'assets', name)), { level: 9 });
    writeFileSync(join(outDir, 'assets', `${name}.gz`), zipped);
    gzipped.set(`assets/${name}`, zipped);
  }
  const files = firstLoadFiles(outDir);
  let bytes = 0;
  let gzipBytes = 0;
  for (const file of files) {
    const body = readFileSync(join(outDir, file));
    bytes += body.length;
    gzipBytes += (gzipped.get(file) ?? gzipSync(body, { level: 9 })).length;
  }
  return { files, bytes, gzipBytes };
}

/** One line for the build's output: the first load's size against the target. */
export const describeWebBuild = ({ bytes, gzipBytes, files }: WebBuildReport): string => {
  const kB = (n: number) => `${(n / 1024).toFixed(1)} kB`;
  const verdict = gzipBytes <= FIRST_LOAD_GZIP_TARGET ? 'within' : 'OVER';
  return `web dashboard: first load ${kB(gzipBytes)} gzipped (${kB(bytes)} raw, ${files.length} files), ${verdict} the ${kB(FIRST_LOAD_GZIP_TARGET)} target`;
};
