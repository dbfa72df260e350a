import { afterAll, beforeAll, onTestFailed } from 'vitest';
import { openBrowser, type TestBrowser } from './browser.js';
import { startTestServer, type TestServer } from './server.js';

/**
 * For a browser test file: a sandbox server and a Chromium page, started before its tests and
 * closed after them. `watch(name)` in a test keeps a screenshot of the page if it fails.
 */
export const browserSuite = (options: Parameters<typeof startTestServer>[0] = {}) => {
  const suite = {
    server: undefined as unknown as TestServer,
    browser: undefined as unknown as TestBrowser,
    watch: (name: string) =>
      onTestFailed(async () => {
        await suite.browser.screenshot(`${name}-failed`);
      }),
  };
  beforeAll(async () => {
    suite.server = await startTestServer(options);
    suite.browser = await openBrowser();
  }, 60_000);
  afterAll(async () => {
    await suite.browser?.close();
    await suite.server?.destroy();
  });
  return suite;
};
