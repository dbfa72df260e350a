import { beforeAll, expect, it } from 'vitest';
import { browserSuite } from './helpers/browserSuite.js';
import { sessionStatus } from './helpers/wait.js';

// Issue #20: a poll sent to several chats from the dashboard shows each chat's outcome, and
// for each that failed, why. Here the session is stopped between the first chat and the
// second (the server paces the sends 2 s apart).

const suite = browserSuite({ config: { sendDelayMs: 2_000 }, sandbox: { autoVote: false } });
beforeAll(() => sessionStatus(suite.server.session));

it('shows the chats a poll reached and the error of each it did not', async () => {
  const { server, browser } = suite;
  const { page } = browser;
  suite.watch('send-failure');
  await page.goto(`${server.url}/#/chats`);
  const boxes = page.locator('input[data-chat]');
  await boxes.first().waitFor();
  const [a, b] = [
    await boxes.nth(0).getAttribute('data-chat'),
    await boxes.nth(1).getAttribute('data-chat'),
  ];
  await boxes.nth(0).check();
  await boxes.nth(1).check();
  await page.getByLabel('Question').fill('Meet on Friday?');
  await page.getByLabel(/Options, one per line/).fill('Yes\nNo');
  await page.getByRole('button', { name: 'Send to 2 chats' }).click();

  await page.locator(`.progress li[data-chat="${a}"][data-outcome="sent"]`).waitFor();
  const stopped = await fetch(`${server.url}/api/sessions/default/stop`, { method: 'POST' });
  expect(stopped.status).toBe(200);
  const failed = page.locator(`.progress li[data-chat="${b}"][data-outcome="failed"]`);
  await failed.waitFor({ timeout: 15_000 });
  expect(await failed.getByRole('alert').textContent()).toMatch(/^failed: .*stopped/);
  await browser.screenshot('send-failure');
  expect(browser.errors).toEqual([]);
}, 60_000);
