import { PassThrough } from 'node:stream';
import { TerminalUi } from '@pollmasters/api/terminalUi';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';

// Issue 6: the QR (or a pairing code) in the terminal, never in the log.

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const terminal = () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => {
    text += c.toString();
  });
  const log = new PassThrough();
  let logText = '';
  log.on('data', (c: Buffer) => {
    logText += c.toString();
  });
  /** Resolves once the terminal shows `pattern`, checked on every write to it. */
  const until = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const done = (settle: () => void) => {
        clearTimeout(timer);
        out.off('data', check);
        settle();
      };
      const check = () => pattern.test(text) && done(resolve);
      const timer = setTimeout(
        () => done(() => reject(new Error(`no ${pattern} in:\n${text}`))),
        15_000,
      );
      out.on('data', check);
      check();
    });
  return {
    out,
    logger: pino({ level: 'trace' }, log),
    text: () => text,
    log: () => logText,
    until,
  };
};

const start = async (sandbox: Record<string, unknown>) => {
  const server: TestServer = await startTestServer({ sandbox });
  cleanups.push(() => server.destroy());
  return server;
};

describe('TerminalUi', () => {
  it('prints the QR while pending and the status when ready; the log never sees the QR', async () => {
    const server = await start({ qrScanDelayMs: 500 });
    const t = terminal();
    const seenQrs: string[] = [];
    server.session.on('state', (s) => s.qr && seenQrs.push(s.qr));
    if (server.session.sessionState.qr) seenQrs.push(server.session.sessionState.qr);
    const ui = new TerminalUi(server.session, { out: t.out, logger: t.logger });
    cleanups.push(() => ui.close());
    ui.listening(server.url);
    await t.until(/WhatsApp: ready/);
    expect(t.text()).toContain(`PollMasters listening on ${server.url}\n`);
    expect(t.text()).toMatch(/Scan this QR in WhatsApp[^\n]*\n[▀▄█ \n]{200,}/);
    expect(seenQrs.length).toBeGreaterThan(0);
    for (const qr of seenQrs) {
      expect(t.text()).not.toContain(qr);
      expect(t.log()).not.toContain(qr);
    }
  });

  it('with a phone number, prints a pairing code instead of the QR', async () => {
    const server = await start({ qrScanDelayMs: 1_000 });
    const t = terminal();
    const ui = new TerminalUi(server.session, {
      out: t.out,
      logger: t.logger,
      pair: '491701234567',
    });
    cleanups.push(() => ui.close());
    await t.until(/Pairing code for 491701234567: \S+/);
    await t.until(/WhatsApp: ready/);
    expect(t.text()).not.toContain('Scan this QR');
    const code = /Pairing code for 491701234567: (\S+)/.exec(t.text())![1]!;
    expect(t.log()).not.toContain(code);
  });
});
