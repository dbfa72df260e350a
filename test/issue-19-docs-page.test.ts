import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// Issue 19: the reference page at /docs is served by the server itself from the pinned
// swagger-ui-dist (no CDN: it works offline), and with /openapi.json needs no key while
// telling nothing of this server.

const KEY = 'docs-page-test-server-key-01';

let server: TestServer;
let sessionKey: string;

beforeAll(async () => {
  server = await startTestServer({ config: { apiKey: KEY } });
  const created = await fetch(`${server.url}/api/sessions`, {
    method: 'POST',
    headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'secretshop', scopedKey: true }),
  });
  expect(created.status).toBe(201);
  sessionKey = ((await created.json()) as { apiKey: string }).apiKey;
});
afterAll(() => server?.destroy());

/** The URLs an HTML page loads: `src` and `href` attributes. */
const referencedUrls = (html: string): string[] =>
  [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);

describe('GET /docs', () => {
  it('serves the page and its files without a key, from this server only', async () => {
    const res = await fetch(`${server.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    // The browser itself refuses anything from elsewhere.
    const policy = res.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("connect-src 'self'");
    const urls = referencedUrls(await res.text());
    expect(urls.length).toBeGreaterThanOrEqual(4);
    const types: Record<string, RegExp> = {
      css: /^text\/css/,
      js: /^(text|application)\/javascript/,
      png: /^image\/png/,
    };
    for (const url of urls) {
      expect(url, 'a path on this server, not another host').toMatch(/^\/[^/]/);
      const file = await fetch(`${server.url}${url}`);
      expect(file.status, url).toBe(200);
      expect(file.headers.get('content-type'), url).toMatch(types[url.split('.').pop()!]!);
      const text = await file.text();
      if (url.endsWith('init.js')) {
        expect(text).toContain("url: '/openapi.json'");
        // Swagger UI's default would ask validator.swagger.io for a badge.
        expect(text).toContain('validatorUrl: null');
      }
    }
  });

  it('and /openapi.json are public, and tell nothing of this server', async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const secret of [KEY, sessionKey, 'secretshop', server.dataDir]) {
      expect(text).not.toContain(secret);
    }
    // The routes it describes still take the key.
    expect((await fetch(`${server.url}/status`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/sessions`)).status).toBe(401);
  });

  it('renders every route in a browser, asking nothing of any other host', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    const paths = Object.keys(doc.paths);
    const browser = await openBrowser();
    try {
      const requests: string[] = [];
      browser.page.on('request', (r) => requests.push(r.url()));
      await browser.page.goto(`${server.url}/docs`);
      const shown = browser.page.locator('.opblock-summary-path');
      await expect
        .poll(() => shown.count(), { timeout: 15_000 })
        .toBeGreaterThanOrEqual(paths.length);
      const rendered = await shown.evaluateAll((els) =>
        els.map((e) => e.getAttribute('data-path')),
      );
      expect(rendered.sort()).toEqual(expect.arrayContaining(paths.sort()));
      // `data:` URLs are inline (the page's icons), not requests to anyone.
      const elsewhere = requests.filter(
        (u) => !u.startsWith(`${server.url}/`) && !u.startsWith('data:'),
      );
      expect(elsewhere).toEqual([]);
      expect(requests).toContain(`${server.url}/openapi.json`);
      // Console errors include Content Security Policy refusals.
      expect(browser.errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
