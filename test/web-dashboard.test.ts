import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBrowser } from './helpers/browser.js';
import { browserSuite } from './helpers/browserSuite.js';
import { SandboxProbe } from './helpers/sandbox.js';
import type { TestServer } from './helpers/server.js';
import { until } from './helpers/wait.js';

// Issue #20, end to end in a real browser (Debian's Chromium through playwright-core) against
// a sandbox server: a session created and logged in from the page, one poll sent to two chats,
// the bars followed to what `/sandbox/ledger` says was cast (through a dropped WebSocket), the
// voters and the CSV compared with it, at desktop and phone width, with no console error.

const OPTIONS = ['Pizza', 'Soup', 'Salad'];
/** The address the page's WebSocket is sent to while the test holds the network down. */
const NOWHERE = 'ws://127.0.0.1:9/';

// The phone scans the QR after 1.5 s: long enough to see it drawn.
const suite = browserSuite({ sandbox: { qrScanDelayMs: 1_500 } });
let server: TestServer;
let browser: TestBrowser;
/** The simulated network of the session `e2e` (each session has its own). */
let probe: SandboxProbe;

beforeAll(async () => {
  ({ server, browser } = suite);
  probe = new SandboxProbe(`${server.sandboxChannel}.e2e`);
  // Lets the test cut the page's WebSockets and keep new ones from reaching the server.
  await browser.page.addInitScript({
    content: `
      window.__sockets = [];
      window.__offline = false;
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {
        constructor(url, protocols) {
          super(window.__offline ? ${JSON.stringify(NOWHERE)} : url, protocols);
          window.__sockets.push(this);
        }
      };`,
  });
}, 60_000);

afterAll(() => probe?.close());

const countsOf = (voters: Record<string, string[]>) =>
  Object.fromEntries(
    OPTIONS.map((o) => [o, Object.values(voters).filter((chosen) => chosen.includes(o)).length]),
  );

/** The counts the page's bars show for one poll (its card in the list, or its detail). */
const barsOf = (page: Page, pollId: string) =>
  page.$$eval(`[data-poll="${pollId}"] .bars li`, (items) =>
    Object.fromEntries(
      items.map((li) => [li.getAttribute('data-option'), Number(li.getAttribute('data-count'))]),
    ),
  );

/** RFC 4180 rows (quoted cells with doubled quotes, CRLF). */
const parseCsv = (text: string): string[][] =>
  text
    .replace(/^\uFEFF/, '')
    .split('\r\n')
    .filter(Boolean)
    .map((line) =>
      [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)]
        .filter((m, i, all) => i < all.length - 1 || m[1] !== '')
        .map((m) => (m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replaceAll('""', '"') : m[1]!)),
    );

describe('web dashboard', () => {
  it('logs a session in, sends a poll to two chats, and follows its votes to the ledger', async () => {
    const { page } = browser;
    suite.watch('dashboard');
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();

    // Create and start a session by keyboard: Tab to the id field, type, Enter.
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate("document.activeElement?.getAttribute('name') === 'session-id'"))
        break;
    }
    await page.keyboard.type('e2e');
    await page.keyboard.press('Enter');

    // Its login opens: the QR drawn in the page, then ready once the phone scanned it.
    const card = page.locator('[data-session="e2e"]');
    await card.locator('svg.qr').waitFor({ timeout: 15_000 });
    await browser.screenshot('1-login-qr');
    await card.locator('[data-status="ready"]').waitFor({ timeout: 15_000 });
    await browser.screenshot('2-sessions');

    // Its chats: search for a group, pick it and one direct chat.
    await card.getByRole('link', { name: 'chats' }).click();
    await page.getByRole('heading', { name: 'Chats of e2e' }).waitFor();
    await page.locator('input[data-chat]').first().waitFor();
    const chats = await page.$$eval('.chat-list li', (items) =>
      items.map((li) => ({
        id: li.querySelector('input')!.getAttribute('data-chat')!,
        name: li.querySelector('.chat-name')!.textContent!,
      })),
    );
    const group = chats.find((c) => c.id.endsWith('@g.us'))!;
    const direct = chats.find((c) => !c.id.endsWith('@g.us'))!;
    expect(group && direct).toBeTruthy();
    await page.getByLabel('Search chats').fill(group.name);
    await expect.poll(() => page.locator('input[data-chat]').count()).toBeLessThan(chats.length);
    await page.locator(`input[data-chat="${group.id}"]`).check();
    await page.getByLabel('Search chats').fill('');
    await page.locator(`input[data-chat="${direct.id}"]`).check();

    await page.getByLabel('Question').fill('Lunch today?');
    await page.getByLabel(/Options, one per line/).fill(OPTIONS.join('\n'));
    await page.getByLabel('allow several answers').check();
    await page.getByRole('button', { name: 'Send to 2 chats' }).click();
    for (const chat of [group, direct]) {
      await page
        .locator(`.progress li[data-chat="${chat.id}"][data-outcome="sent"]`)
        .waitFor({ timeout: 15_000 });
    }
    await browser.screenshot('3-sent');
    const pollIds = await page.$$eval('.progress a', (links) =>
      links.map((a) => decodeURIComponent(a.getAttribute('href')!.split('/')[2]!.split('?')[0]!)),
    );
    expect(pollIds).toHaveLength(2);

    // The polls, live. Then the WebSocket drops while the members are still voting: the
    // banner shows; a member changes their vote meanwhile; once the page is back, the bars
    // equal the ledger, and that change came as itself (the subscription resumed after its
    // last event, not a resync), nothing lost or counted twice.
    await page.goto(`${server.url}/#/polls?session=e2e`);
    for (const id of pollIds) await page.locator(`[data-poll="${id}"] .bars`).waitFor();
    await page.evaluate(
      'window.__offline = true; for (const socket of window.__sockets) socket.close();',
    );
    await page.getByText('Disconnected from the server').waitFor();
    await browser.screenshot('4-disconnected');
    const [first] = pollIds as [string];
    const before = await probe.settled(pollIds);
    const [voter, chosen] = Object.entries(before[first]!).find(([, c]) => c.length > 0)!;
    const changedTo = chosen.includes('Soup') ? ['Pizza'] : ['Soup'];
    await probe.vote(first, voter, changedTo);
    const service = server.sessions.require('e2e').service;
    await until(
      service,
      'pollsUpdated',
      () => {
        const poll = service.getPoll(first)!;
        const names = new Map(poll.options.map((o) => [o.hash, o.name]));
        const counted = poll.voters
          .find((v) => v.voter === voter)
          ?.selected.map((h) => names.get(h));
        return JSON.stringify(counted) === JSON.stringify(changedTo) || undefined;
      },
      'the server to count the vote cast while the page was cut off',
    );
    const cast = await probe.settled(pollIds);
    expect(cast[first]![voter]).toEqual(changedTo);
    await page.evaluate('window.__offline = false');
    await page
      .getByText('Disconnected from the server')
      .waitFor({ state: 'detached', timeout: 20_000 });
    for (const id of pollIds) {
      await expect.poll(() => barsOf(page, id), { timeout: 15_000 }).toEqual(countsOf(cast[id]!));
    }

    // One poll in detail, opened by keyboard: who voted for what, and the CSV.
    await page.locator(`[data-poll="${first}"] h2 a`).focus();
    await page.keyboard.press('Enter');
    const detail = page.locator(`article[data-poll="${first}"]`);
    await detail.waitFor();
    const voters = await detail
      .locator('tbody tr')
      .evaluateAll((rows) =>
        Object.fromEntries(
          rows.map((tr) => [
            tr.getAttribute('data-voter'),
            tr.querySelectorAll('td')[2]!.textContent!.split(', ').filter(Boolean),
          ]),
        ),
      );
    expect(voters).toEqual(
      Object.fromEntries(
        Object.entries(cast[first]!)
          .filter(([, chosen]) => chosen.length > 0)
          .map(([voter, chosen]) => [voter, OPTIONS.filter((o) => chosen.includes(o))]),
      ),
    );
    // Newest first: the change made while the page was cut off, as a change of that voter.
    const newest = detail.locator('.timeline li').first();
    expect(await newest.getAttribute('data-voter')).toBe(voter);
    expect(await newest.getAttribute('data-kind')).toBe('changed');
    await browser.screenshot('5-poll-desktop');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      detail.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const rows = parseCsv(readFileSync((await download.path())!, 'utf8'));
    expect(rows[0]).toEqual(['voter', 'name', 'voted_at', ...OPTIONS]);
    const byVoter = Object.fromEntries(
      rows.slice(1, -1).map((r) => [r[0], OPTIONS.filter((_, i) => r[3 + i] === '1')]),
    );
    expect(byVoter).toEqual(voters);
    const counts = countsOf(cast[first]!);
    expect(rows.at(-1)).toEqual(['TOTAL', '', '', ...OPTIONS.map((o) => String(counts[o]))]);

    // At a phone's width every screen still fits: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    const screens = { poll: null, polls: 'polls', sessions: 'sessions', chats: 'chats' };
    for (const [name, screen] of Object.entries(screens)) {
      if (screen) {
        await page.goto(`${server.url}/#/${screen}?session=e2e`);
        await page
          .locator('main h1')
          .filter({ hasText: /Sessions|Chats of e2e|Polls of e2e/ })
          .waitFor();
      }
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      expect(width, name).toBeLessThanOrEqual(390);
      await browser.screenshot(`6-${name}-phone`);
    }

    // Only the connections the test itself sent nowhere may have failed.
    expect(browser.errors.filter((e) => !e.includes(NOWHERE))).toEqual([]);
  }, 120_000);
});
