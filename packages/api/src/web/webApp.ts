import { existsSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Express, Request, Response } from 'express';
import type { Logger } from 'pino';

/** Where `pnpm build` puts the dashboard (packages/web/dist), from src/ and dist/ alike. */
export const defaultWebDir = fileURLToPath(new URL('../../../web/dist', import.meta.url));

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
};

/**
 * What the page may load and talk to: its own origin only (no CDN, nothing inline but the bars'
 * widths, set as style attributes), its API over HTTP and WebSocket, QR images it draws itself.
 */
const contentSecurityPolicy = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** A built asset's name: Vite's `name-hash.ext`, no path, no dot file. */
const assetName = /^[\w-]+(\.[\w-]+)*\.[a-z0-9]+$/;

const acceptsGzip = (req: Request): boolean =>
  /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');

/**
 * Serves the web dashboard (packages/web's build) at `/`: `index.html` there (and at
 * `/index.html`), its hashed files under `/assets/` (cached for a year: a new build has new
 * names; gzipped when the browser accepts it, from the `.gz` the build wrote). The screens are
 * addresses within that page (`/#/polls`), so no other path is taken: every route of the API
 * stays its own. Mounted before the API key check: the page holds no data, and asks for the key
 * itself. Not built: `/` answers 503 saying how to build it.
 */
export const mountWebApp = (app: Express, webDir: string, logger: Logger): void => {
  const indexFile = join(webDir, 'index.html');
  if (!existsSync(indexFile)) {
    logger.warn({ webDir }, 'web dashboard not built (run `pnpm build`): / answers 503');
  }
  const sendIndex = (_req: Request, res: Response) => {
    let html: Buffer;
    try {
      // Read per request: a build replaces it while the server runs (scripts/build.ts).
      html = readFileSync(indexFile);
    } catch {
      res
        .status(503)
        .type('text/plain')
        .send(
          'The PollMasters web dashboard is not built. Run `pnpm build` in the checkout (`pnpm start` builds it), then reload.\n',
        );
      return;
    }
    res
      .status(200)
      .set({
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-cache',
        'Content-Security-Policy': contentSecurityPolicy,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
      })
      .send(html);
  };
  app.get(['/', '/index.html'], sendIndex);
  app.get('/assets/:name', (req, res, next) => {
    const name = req.params.name;
    const type = contentTypes[extname(name)];
    const file = join(webDir, 'assets', name);
    // Not one of the build's files: the server's own 404, as for any unknown path.
    if (!assetName.test(name) || !type || !existsSync(file)) return next();
    const gzipped = acceptsGzip(req) && existsSync(`${file}.gz`);
    res.set({
      'Content-Type': type,
      'Cache-Control': 'public, max-age=31536000, immutable',
      'X-Content-Type-Options': 'nosniff',
      Vary: 'Accept-Encoding',
      ...(gzipped ? { 'Content-Encoding': 'gzip' } : {}),
    });
    res.sendFile(gzipped ? `${file}.gz` : file, { dotfiles: 'deny' }, (err) => {
      if (err && !res.headersSent) {
        res.removeHeader('Content-Encoding');
        res.removeHeader('Cache-Control');
        next(err);
      }
    });
  });
};
