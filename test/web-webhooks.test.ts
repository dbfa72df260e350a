import type { WebhookListedEndpoint } from '@pollmasters/shared';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { browserSuite } from './helpers/browserSuite.js';
import { SandboxProbe } from './helpers/sandbox.js';
import { worldOf } from './helpers/tracked.js';
import { eventually, sessionStatus } from './helpers/wait.js';
import { type Received, WebhookReceiver } from './helpers/webhookReceiver.js';

// Issue #20's webhooks screen, end to end in Chromium against a sandbox server that may reach
// a real receiver on loopback: a refused URL shows the server's reason and makes nothing; an
// endpoint made by keyboard shows its secret once (the one its requests are signed with);
// votes are seen delivered; with the receiver answering 500 and 2 attempts allowed, deliveries
// end `failed`; replayed from the page (one, then all) with the receiver fixed, delivered; the
// card's counts (waiting, failed, delivered) follow each step, paused ones waiting included.

const SANDBOX = { seed: 20, autoVote: false, groups: 1, membersPerGroup: 4 };
const suite = browserSuite({
  sandbox: SANDBOX,
  config: { webhookAllow: '127.0.0.1', webhookMaxAttempts: 2, webhookRetryBaseMs: 50 },
});
const receiver = new WebhookReceiver();
let receiverUrl: string;
let probe: SandboxProbe;

beforeAll(async () => {
  receiverUrl = await receiver.start();
  probe = new SandboxProbe(suite.server.sandboxChannel);
  await sessionStatus(suite.server.session, 'ready', 15_000);
}, 30_000);
afterAll(async () => {
  probe?.close();
  await receiver.close();
});

const endpoints = async (): Promise<WebhookListedEndpoint[]> => {
  const res = await fetch(`${suite.server.url}/api/sessions/default/webhooks`);
  return ((await res.json()) as { endpoints: WebhookListedEndpoint[] }).endpoints;
};

const headersOf = (r: Received) =>
  Object.fromEntries(
    ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(r.headers[h])]),
  );

it('manages a webhook from the page: secret once, deliveries, failures replayed', async () => {
  const { server, browser } = suite;
  const { page } = browser;
  suite.watch('webhooks');
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], {
    origin: server.url,
  });
  page.on('dialog', (dialog) => void dialog.accept());
  await page.goto(`${server.url}/`);
  await page
    .getByRole('navigation', { name: 'Screens' })
    .getByRole('link', { name: 'Webhooks' })
    .click();
  await page.getByRole('heading', { name: 'Webhooks of default' }).waitFor();
  await page.getByText('No webhooks yet.').waitFor();

  // A loopback address not allowed: the server's reason, and nothing made.
  const form = page.getByRole('form', { name: 'New webhook' });
  await form.getByLabel('Endpoint URL').fill('http://[::1]:9/hook');
  await form.getByRole('button', { name: 'Add webhook' }).click();
  const refusal = page.getByRole('alert').filter({ hasText: 'Not added:' });
  await refusal.waitFor();
  expect(await refusal.textContent()).toMatch(/url/i);
  expect(await endpoints()).toEqual([]);
  // Chromium logs the refused request (400) itself: the only console error allowed.
  expect(browser.errors).toEqual([expect.stringContaining('400 (Bad Request)')]);

  // By keyboard: the URL, two of the four events, then the button.
  await form.getByLabel('Endpoint URL').fill('');
  await form.getByLabel('Endpoint URL').focus();
  await page.keyboard.type(receiverUrl);
  for (const type of ['poll.sent', 'poll.vote', 'poll.vote.rejected', 'session.status']) {
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.value')).toBe(type);
    if (type === 'poll.vote.rejected' || type === 'session.status') {
      await page.keyboard.press('Space');
    }
  }
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  const secretBox = page.getByRole('status', { name: 'Signing secret' });
  await secretBox.getByText('you will not see this again').waitFor();
  const secret = await secretBox.getByRole('textbox', { name: 'Signing secret' }).inputValue();
  expect(secret).toMatch(/^whsec_/);
  await secretBox.getByRole('button', { name: 'Copy' }).click();
  await secretBox.getByText('Copied to the clipboard.').waitFor();
  expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
  const [made] = await endpoints();
  expect(made).toMatchObject({ url: receiverUrl, events: ['poll.sent', 'poll.vote'] });
  const card = page.locator(`[data-endpoint="${made!.id}"]`);
  await card.getByText(receiverUrl).waitFor();
  await secretBox.getByRole('button', { name: 'I have saved it' }).click();
  await secretBox.waitFor({ state: 'detached' });
  expect(await page.content()).not.toContain(secret);

  // A poll and two votes: three deliveries, signed with the secret the page showed.
  const group = worldOf(SANDBOX).chats.find((c) => c.kind === 'group')!;
  const poll = await server.session.sendPoll({
    chatId: group.id,
    question: 'Hooks?',
    options: ['Yes', 'No'],
    selectableCount: 1,
  });
  const [a, b, c, d] = group.members;
  await probe.vote(poll.id, a!.pn, ['Yes']);
  await probe.vote(poll.id, b!.pn, ['No']);
  await eventually('3 deliveries', () => receiver.delivered.length === 3);
  for (const r of receiver.received) new Webhook(secret).verify(r.body, headersOf(r));
  await card.getByRole('button', { name: 'Deliveries' }).click();
  const rows = card.locator('tbody tr');
  await expect
    .poll(() => card.locator('tr[data-status="delivered"]').count(), { timeout: 15_000 })
    .toBe(3);
  expect(await rows.first().getByText('HTTP 200').count()).toBe(1);
  // The card's counts: the list's, refreshed with it.
  const summary = card.locator('.summary');
  await card.locator('.summary[data-delivered="3"]').waitFor();
  expect(await summary.textContent()).toMatch(/^0 waiting · 0 failed · 3 delivered · newest: /);
  await browser.screenshot('webhooks-1-delivered');

  // The receiver breaks: two more votes, each tried twice, end failed.
  receiver.answer = () => 500;
  await probe.vote(poll.id, c!.pn, ['Yes']);
  await probe.vote(poll.id, d!.pn, ['Yes']);
  await card.getByLabel('Show').selectOption('failed');
  await expect
    .poll(() => card.locator('tr[data-status="failed"]').count(), { timeout: 15_000 })
    .toBe(2);
  const failedRows = card.locator('tr[data-status="failed"]');
  for (const row of await failedRows.all()) {
    expect(await row.locator('td[data-label="Attempts"]').textContent()).toBe('2');
    expect(await row.locator('td[data-label="Last answer"]').textContent()).toContain('HTTP 500');
  }
  await card.locator('.summary[data-failed="2"]').waitFor();
  expect(await summary.textContent()).toMatch(/^0 waiting · 2 failed · 3 delivered · /);
  expect((await endpoints())[0]!.deliveries).toEqual({ pending: 0, failed: 2, delivered: 3 });
  await browser.screenshot('webhooks-2-failures');

  // Fixed: replay the older failure alone, then all that are left.
  receiver.answer = () => 200;
  const [newer, older] = await failedRows.evaluateAll((trs) =>
    trs.map((tr) => ({
      id: tr.getAttribute('data-delivery')!,
      eventId: tr.getAttribute('data-event-id')!,
    })),
  );
  await card.getByRole('button', { name: `Replay delivery ${older!.id}` }).click();
  await expect
    .poll(() => card.locator('tr[data-status="failed"]').count(), { timeout: 15_000 })
    .toBe(1);
  await eventually('the replayed delivery', () =>
    receiver.delivered.some((r) => r.headers['webhook-id'] === older!.eventId),
  );
  expect(receiver.delivered.some((r) => r.headers['webhook-id'] === newer!.eventId)).toBe(false);
  await card.getByRole('button', { name: 'Replay all failed' }).click();
  await card.getByText('No failed deliveries.').waitFor();
  await eventually('every vote delivered', () =>
    receiver.delivered.some((r) => r.headers['webhook-id'] === newer!.eventId),
  );
  await card.getByLabel('Show').selectOption('');
  await expect
    .poll(() => card.locator('tr[data-status="delivered"]').count(), { timeout: 15_000 })
    .toBe(5);
  await card.locator('.summary[data-failed="0"][data-pending="0"][data-delivered="5"]').waitFor();

  // Paused, two votes changed wait (counted as waiting); resumed, they are sent.
  await card.getByRole('button', { name: 'Pause' }).click();
  await page.locator(`[data-endpoint="${made!.id}"][data-paused="true"]`).waitFor();
  await probe.vote(poll.id, a!.pn, ['No']);
  await probe.vote(poll.id, b!.pn, ['Yes']);
  await card.locator('.summary[data-pending="2"]').waitFor();
  expect(await summary.textContent()).toMatch(/^2 waiting · 0 failed · 5 delivered · /);
  await card.getByRole('button', { name: 'Resume' }).click();
  await page.locator(`[data-endpoint="${made!.id}"][data-paused="false"]`).waitFor();
  await card.locator('.summary[data-pending="0"][data-delivered="7"]').waitFor();

  // Change the events, rotate the secret (shown once, and different).
  await card.getByRole('button', { name: 'Edit' }).click();
  const edit = card.getByRole('form', { name: `Edit ${receiverUrl}` });
  await edit.getByLabel('poll.sent').uncheck();
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.waitFor({ state: 'detached' });
  expect((await endpoints())[0]).toMatchObject({ paused: false, events: ['poll.vote'] });
  await card.getByRole('button', { name: 'Rotate secret' }).click();
  const rotated = await card.getByRole('textbox', { name: 'Signing secret' }).inputValue();
  expect(rotated).toMatch(/^whsec_/);
  expect(rotated).not.toBe(secret);
  await browser.screenshot('webhooks-3-desktop');

  // At a phone's width nothing is wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
    390,
  );
  await browser.screenshot('webhooks-4-phone');

  await card.getByRole('button', { name: 'Delete' }).click();
  await page.getByText('No webhooks yet.').waitFor();
  expect(await endpoints()).toEqual([]);
  expect(browser.errors).toHaveLength(1);
}, 120_000);

it('says why a stopped session shows no webhooks, and starts it from the page', async () => {
  const { server, browser } = suite;
  const { page } = browser;
  suite.watch('webhooks-stopped');
  const created = await fetch(`${server.url}/api/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'off', start: false }),
  });
  expect(created.status).toBe(201);
  await page.goto(`${server.url}/#/webhooks?session=off`);
  await page.getByRole('alert').filter({ hasText: 'the session is stopped' }).waitFor();
  const errorsBefore = browser.errors.length;
  await page.getByRole('button', { name: 'Start off' }).click();
  await page.getByText('No webhooks yet.').waitFor({ timeout: 15_000 });
  expect(await page.getByRole('alert').count()).toBe(0);
  // The only console errors: Chromium's own lines for the refused (503) reads before the start.
  expect(browser.errors.slice(errorsBefore)).toEqual([]);
  expect(browser.errors.every((e) => /status of (400|503)/.test(e))).toBe(true);
}, 60_000);
