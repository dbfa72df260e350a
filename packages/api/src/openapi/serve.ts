import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Express, Response } from 'express';
import { apiAreas } from './areas/index.js';
import { buildOpenApiDocument, type OpenApiDocument } from './document.js';

const require = createRequire(import.meta.url);
/** swagger-ui-dist's files, from node_modules: the page needs nothing from the network. */
const swaggerUiDir = dirname(require.resolve('swagger-ui-dist/package.json'));
const { version } = require('../../package.json') as { version: string };

export const openApiPath = '/openapi.json';
export const docsPath = '/docs';

/** The document and its page: the same for every server, so no key is needed for them. */
export const isReferencePath = (path: string): boolean =>
  path === openApiPath || path === docsPath || path.startsWith(`${docsPath}/`);

const description = `A self-hosted WhatsApp poll service: send polls, count every vote as it arrives, vote as the account, run several accounts (sessions).

**Keys.** A server started with an API key (\`POLLMASTERS_API_KEY\`) takes it on every route but this document and its page, as \`X-API-Key: <key>\` or \`Authorization: Bearer <key>\`; a session's own key may use that session only. Without a key (loopback only) no route needs one.

**Errors.** The compat routes, health, metrics and the exports fail as \`{success: false, message, error?}\`; the routes under \`/api\` as \`{error: {code, message}}\`; both with the HTTP status of the failure.

**Not here.** The typed tRPC API under \`/trpc\` (with its TypeScript client, packages/client) and the GUI's Socket.IO events are not HTTP routes: see the README. The sandbox's own routes (\`/sandbox/...\`, only with \`--sandbox\`) drive the simulated WhatsApp network for demos and tests and are not part of the API.`;

let built: { document: OpenApiDocument; json: string } | null = null;

/** Built on first use (not at every start): the areas' zod schemas, converted once. */
const build = (): { document: OpenApiDocument; json: string } => {
  if (!built) {
    const document = buildOpenApiDocument(apiAreas, { title: 'PollMasters', version, description });
    built = { document, json: JSON.stringify(document) };
  }
  return built;
};

/** The OpenAPI 3.1 document of the HTTP API. */
export const openApiDocument = (): OpenApiDocument => build().document;

/** Only this server's own files: the page makes no request elsewhere, and a browser would refuse one. */
const docsPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>PollMasters API reference</title>
<link rel="stylesheet" href="${docsPath}/swagger-ui.css">
<link rel="icon" type="image/png" href="${docsPath}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${docsPath}/swagger-ui-bundle.js"></script>
<script src="${docsPath}/init.js"></script>
</body>
</html>
`;

/** No online validator badge (Swagger UI's default asks validator.swagger.io). */
const init = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '${openApiPath}',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

const assets = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png'];

const cached = (res: Response): Response =>
  res.set({ 'Cache-Control': 'public, max-age=3600', 'X-Content-Type-Options': 'nosniff' });

/**
 * `GET /openapi.json` (the document) and `GET /docs` (the reference page, Swagger UI from the
 * pinned swagger-ui-dist, its files served from node_modules). The server lets them through
 * without a key (see `isReferencePath`).
 */
export const mountOpenApi = (app: Express): void => {
  app.get(openApiPath, (_req, res) => {
    cached(res).type('application/json').send(build().json);
  });
  app.get(docsPath, (_req, res) => {
    cached(res).set('Content-Security-Policy', docsPolicy).type('text/html').send(page);
  });
  app.get(`${docsPath}/init.js`, (_req, res) => {
    cached(res).type('text/javascript').send(init);
  });
  for (const file of assets) {
    app.get(`${docsPath}/${file}`, (_req, res, next) => {
      // pnpm keeps packages under `node_modules/.pnpm/`: a dot folder that `send` refuses by default.
      cached(res).sendFile(
        join(swaggerUiDir, file),
        { dotfiles: 'allow' },
        (err) => err && next(err),
      );
    });
  }
};
