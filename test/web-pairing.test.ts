import { expect, it } from 'vitest';
import { browserSuite } from './helpers/browserSuite.js';

// Issue #20: a session logs in from the dashboard with a pairing code instead of the QR: the
// page asks for the phone number, shows the code to type on the phone, and the session turns
// ready once the (simulated) phone took it.

// The phone scans no QR for 3 s: the code is asked for first.
const suite = browserSuite({ sandbox: { qrScanDelayMs: 3_000 } });

it('logs a session in by pairing code', async () => {
  const { server, browser } = suite;
  const { page } = browser;
  suite.watch('pairing');
  const created = await fetch(`${server.url}/api/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'phone', start: true }),
  });
  expect(created.status).toBe(201);
  await page.goto(`${server.url}/`);
  const card = page.locator('[data-session="phone"]');
  await card.getByRole('button', { name: 'Log in' }).click();
  await card.getByLabel('Or link with a phone number').fill('+49 170 1234567');
  await card.getByRole('button', { name: 'Get a pairing code' }).click();
  const code = card.locator('.pairing .code');
  await code.waitFor();
  expect((await code.textContent())?.trim()).toMatch(/^[A-Z0-9-]{8,9}$/);
  await browser.screenshot('pairing-code');
  await card.locator('[data-status="ready"]').waitFor({ timeout: 15_000 });
  expect(browser.errors).toEqual([]);
}, 60_000);
