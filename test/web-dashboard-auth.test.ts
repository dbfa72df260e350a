import { expect, it } from 'vitest';
import { browserSuite } from './helpers/browserSuite.js';

// Issue #20: with an API key set, the dashboard's page loads without it (it holds no data),
// asks for the key once per tab, keeps it in that tab's session storage, and says clearly
// when a key is wrong.

const API_KEY = 'dashboard-test-key-0123456789';

const suite = browserSuite({ config: { apiKey: API_KEY } });

it('asks for the key once per tab and refuses a wrong one clearly', async () => {
  const { server, browser } = suite;
  const { page, context } = browser;
  suite.watch('auth');
  await page.goto(`${server.url}/`);
  const keyField = page.getByLabel('This server needs its API key');
  await keyField.waitFor();

  await keyField.fill('not-the-key-at-all-0000');
  await keyField.press('Enter');
  await page.getByRole('alert').filter({ hasText: 'The server refused that key' }).waitFor();
  await browser.screenshot('auth-refused');
  expect(await page.evaluate('sessionStorage.length')).toBe(0);

  await keyField.fill(API_KEY);
  await keyField.press('Enter');
  await page.locator('[data-session="default"] [data-status="ready"]').waitFor();

  // Kept for this tab: a reload does not ask again.
  await page.reload();
  await page.locator('[data-session="default"]').waitFor();
  expect(await keyField.count()).toBe(0);

  // Another tab has its own session storage: it asks.
  const other = await context.newPage();
  await other.goto(`${server.url}/`);
  await other.getByLabel('This server needs its API key').waitFor();
  await other.close();

  // Only the refusals of the missing and the wrong key may show as failed requests.
  expect(browser.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
}, 60_000);
