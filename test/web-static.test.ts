import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root } from './helpers/childServer.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// Issue #20: the server serves the built dashboard at `/` (hashed assets cached for good,
// gzipped for browsers that take it), before the API key check (the page holds no data and
// asks for the key), without taking any path of the API; not built, it says how to build it.

const API_KEY = 'web-static-test-key-0123456789';
const assets = join(root, 'packages/web/dist/assets');

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ config: { apiKey: API_KEY } });
});
afterAll(() => server?.destroy());

describe('web app at /', () => {
  it('serves the page and its assets without the key, cacheable and gzipped', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    const script = html.match(/src="\/assets\/([^"]+\.js)"/)?.[1];
    expect(script && readdirSync(assets)).toContain(script);

    const js = await fetch(`${server.url}/assets/${script}`, {
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('content-encoding')).toBe('gzip');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    // fetch undid the gzip: the script itself.
    expect((await js.text()).length).toBeGreaterThan(1000);

    // Not a file of the build: the server's 404, as for any path it does not know.
    const missing = await fetch(`${server.url}/assets/index-nothere.js`);
    const unknown = await fetch(`${server.url}/no-such-path`);
    expect(missing.status).toBe(unknown.status);
    expect(missing.headers.get('content-type')).toBe(unknown.headers.get('content-type'));
    expect(missing.headers.get('cache-control')).toBeNull();
    expect((await fetch(`${server.url}/assets/..%2Fpackage.json`)).status).not.toBe(200);
  });

  it('takes no route of the API: those still want the key and answer as before', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(401);
    expect((await fetch(`${server.url}/get-chats`)).status).toBe(401);
    expect((await fetch(`${server.url}/trpc/sessions.list`)).status).toBe(401);
    const health = await fetch(`${server.url}/healthz`, { headers: { 'x-api-key': API_KEY } });
    expect(await health.json()).toMatchObject({ sessions: expect.any(Array) });
  });

  it('says how to build the dashboard when it is not built', async () => {
    const unbuilt = await startTestServer({ config: { webDir: join(root, '.tmp/no-web-dist') } });
    try {
      const res = await fetch(`${unbuilt.url}/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('Run `pnpm build`');
    } finally {
      await unbuilt.destroy();
    }
  });
});
