import type { Logger, SessionState } from '@pollmasters/shared';
import qrcode from 'qrcode-terminal';
import type { SessionView } from './session/sessionService.js';

/** What the terminal UI needs of a session (SessionService has it). */
export type TerminalSession = SessionView<'sessionState' | 'requestPairingCode'>;

export interface TerminalUiOptions {
  /** Where the UI prints: the terminal (stdout), never the log. */
  out: NodeJS.WritableStream;
  /** Logs failures (without secrets). */
  logger: Logger;
  /** Log in with a pairing code for this number instead of showing the QR. */
  pair?: string | null;
}

const statusLines: Record<SessionState['status'], string> = {
  disconnected: 'WhatsApp: connecting...',
  qr_pending: 'WhatsApp: waiting for login',
  ready: 'WhatsApp: ready',
  logged_out: 'WhatsApp: logged out; a fresh login follows',
  auth_failure: 'WhatsApp: the stored login was rejected; log in again',
};

/**
 * The person at the terminal's view of the server: the URL it listens on, each status
 * change, and the QR (or the pairing code with `pair`) while a login is pending. The QR and
 * the code are secrets: they are written to `out` only, never to the logger.
 */
export class TerminalUi {
  private lastStatus: SessionState['status'] | null = null;
  private lastQr: string | null = null;
  /** The QR the pairing code was requested for: one request per login offer. */
  private pairedFor: string | null = null;
  private readonly onState = (state: SessionState) => this.show(state);

  constructor(
    private readonly session: TerminalSession,
    private readonly options: TerminalUiOptions,
  ) {
    session.on('state', this.onState);
    this.show(session.sessionState);
  }

  /** Prints `listening on <url>` (also what scripts and tests wait for). */
  listening(url: string): void {
    this.print(`PollMasters listening on ${url}`);
  }

  close(): void {
    this.session.off('state', this.onState);
  }

  private show(state: SessionState): void {
    if (state.status !== this.lastStatus) this.print(statusLines[state.status]);
    this.lastStatus = state.status;
    // A new login offer (after a logout, say) gets a new pairing code.
    if (state.status !== 'qr_pending') this.pairedFor = null;
    if (state.status !== 'qr_pending' || !state.qr || state.qr === this.lastQr) return;
    this.lastQr = state.qr;
    if (this.options.pair) this.requestPairingCode(this.options.pair, state.qr);
    else this.printQr(state.qr);
  }

  private printQr(qr: string): void {
    qrcode.generate(qr, { small: true }, (art) => {
      this.print(`Scan this QR in WhatsApp (Settings > Linked devices > Link a device):\n${art}`);
    });
  }

  private requestPairingCode(phone: string, qr: string): void {
    if (this.pairedFor !== null) return;
    this.pairedFor = qr;
    this.session.requestPairingCode(phone).then(
      (code) =>
        this.print(
          `Pairing code for ${phone}: ${code}\nIn WhatsApp: Settings > Linked devices > Link a device > Link with phone number instead.`,
        ),
      (err: unknown) => {
        this.pairedFor = null;
        this.options.logger.error({ err }, 'could not get a pairing code');
        this.print('Could not get a pairing code; see the log. The QR follows instead.');
        this.printQr(qr);
      },
    );
  }

  private print(text: string): void {
    this.options.out.write(`${text}\n`);
  }
}
