import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { root } from './childServer.js';

/** Debian's Chromium (`apt-get install chromium`; scripts/ensure-chromium.sh). */
export const CHROMIUM = process.env.POLLMASTERS_CHROMIUM ?? '/usr/bin/chromium';

/** Kept after the run (git-ignored): what the browser tests saw. */
export const SCREENSHOTS = join(root, 'test-results/screenshots');

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Every console error and uncaught exception of the page so far. */
  errors: string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * A headless Chromium with a fresh profile (a temp `--user-data-dir`) and one page, whose
 * console errors are collected: the tests fail on any.
 */
export const openBrowser = async (
  viewport = { width: 1280, height: 900 },
): Promise<TestBrowser> => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: run sudo apt-get install -y chromium`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'pollmasters-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    acceptDownloads: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    context,
    page,
    errors,
    screenshot: async (name) => {
      const path = join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
};
