import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { eventually } from './wait.js';

/** A Chromium to drive, if this machine has one (`CHROMIUM` names another). */
export const chromiumPath: string | undefined = [
  process.env.CHROMIUM,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
].find((p): p is string => !!p && existsSync(p));

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PageVisit {
  /** Every URL the page asked for (documents, scripts, styles, images, fetches). */
  requests: string[];
  /** The browser console's errors and warnings, CSP refusals included. */
  problems: string[];
  /** What `until` evaluated to in the page at last. */
  value: unknown;
}

const devtoolsUrl = (browser: ChildProcess): Promise<string> =>
  new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no DevTools address: ${seen}`)), 20_000);
    browser.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const found = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]!);
      }
    });
    browser.once('exit', (code) => reject(new Error(`chromium exited (${code}): ${seen}`)));
  });

/**
 * Opens `url` in a headless Chromium (no name resolves but 127.0.0.1, so nothing outside can
 * answer), records every request the page makes (DevTools' Network domain: the browser's own
 * background traffic is not the page's), and waits until `until` (a JS expression) is truthy.
 */
export const visitPage = async (
  url: string,
  until: string,
  timeoutMs = 20_000,
): Promise<PageVisit> => {
  if (!chromiumPath) throw new Error('no chromium');
  const profile = mkdtempSync(join(tmpdir(), 'pollmasters-chromium-'));
  const browser = spawn(
    chromiumPath,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      `--user-data-dir=${profile}`,
      '--remote-debugging-port=0',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      'about:blank',
    ],
    // Its own process group: its helpers (renderer, zygote, crashpad) end with it.
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  const exited = new Promise((r) => browser.once('exit', r));
  let ws: WebSocket | undefined;
  try {
    ws = new WebSocket(await devtoolsUrl(browser));
    const socket = ws;
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    let nextId = 0;
    const pending = new Map<number, (result: Record<string, unknown>) => void>();
    const visit: PageVisit = { requests: [], problems: [], value: undefined };
    socket.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString());
      if (msg.id !== undefined) pending.get(msg.id)?.(msg.result ?? { error: msg.error });
      else if (msg.method === 'Network.requestWillBeSent')
        visit.requests.push(msg.params.request.url);
      else if (msg.method === 'Log.entryAdded' && msg.params.entry.level !== 'verbose') {
        visit.problems.push(`${msg.params.entry.level}: ${msg.params.entry.text}`);
      }
    });
    const send = (method: string, params: object = {}, sessionId?: string) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const id = ++nextId;
        pending.set(id, resolve);
        socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
      });
    const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as {
      sessionId: string;
    };
    await send('Network.enable', {}, sessionId);
    await send('Log.enable', {}, sessionId);
    await send('Page.navigate', { url }, sessionId);
    visit.value = await eventually(
      `${until} in ${url}`,
      async () => {
        const { result } = (await send(
          'Runtime.evaluate',
          { expression: until, returnByValue: true },
          sessionId,
        )) as { result?: { value?: unknown } };
        return result?.value;
      },
      timeoutMs,
      100,
    );
    return visit;
  } finally {
    // Closed as a user closes it, then whatever is left of its group (a helper that outlived it).
    if (ws?.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ id: 0, method: 'Browser.close' }));
    }
    await Promise.race([exited, delay(5_000)]);
    ws?.close();
    try {
      if (browser.pid !== undefined) process.kill(-browser.pid, 'SIGKILL');
    } catch {
      // ESRCH: the whole group is gone already.
    }
    await exited;
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
};
