import { randomBytes } from 'node:crypto';
import {
  type AuthenticationCreds,
  bytesToCrockford,
  DisconnectReason,
  type makeEventBuffer,
} from '@whiskeysockets/baileys';
import { boom } from './boom.js';
import type { Network } from './network.js';
import { userOf } from './world.js';

type EventBuffer = ReturnType<typeof makeEventBuffer>;

/** What the login flow needs from its socket. */
export interface LoginHost {
  readonly network: Network;
  readonly creds: AuthenticationCreds;
  readonly ev: EventBuffer;
  /** Baileys' `qrTimeout`: how long each QR lives after the first. */
  readonly qrTimeout: number | undefined;
  schedule(delayMs: number, run: () => void): NodeJS.Timeout;
  cancel(timer: NodeJS.Timeout | undefined): void;
  end(error: Error): void;
}

/** WhatsApp hands out a handful of QR refs per connection, then gives up on it. */
const QR_REFS = 6;

/**
 * The registration half of a connection, as Baileys and WhatsApp play it: QR codes that are
 * refreshed until the phone scans one (or a pairing code is entered), then `creds.update`, and
 * a close with `restartRequired` (515) so that the app reconnects with its new creds.
 */
export class Registration {
  private qrTimer: NodeJS.Timeout | undefined;
  private pairTimer: NodeJS.Timeout | undefined;

  constructor(private readonly host: LoginHost) {}

  /** Offers QR codes; the simulated phone scans after `qrScanDelayMs`. */
  start(): void {
    let refsLeft = QR_REFS;
    let lifetime = this.host.qrTimeout ?? 60_000;
    const showQr = (): void => {
      if (refsLeft-- <= 0) {
        this.host.end(boom('QR refs attempts ended', DisconnectReason.timedOut));
        return;
      }
      this.host.ev.emit('connection.update', { qr: this.qrData() });
      this.qrTimer = this.host.schedule(lifetime, showQr);
      lifetime = this.host.qrTimeout ?? 20_000;
    };
    showQr();
    this.pairTimer ??= this.host.schedule(this.host.network.options.qrScanDelayMs, () =>
      this.pair(),
    );
  }

  /** The user types a code on the phone instead of scanning: pairs after the same delay. */
  requestPairingCode(phoneNumber: string, customPairingCode?: string): string {
    const digits = phoneNumber.replace(/\D/g, '');
    if (!digits) throw boom('Invalid phone number', 400, { phoneNumber });
    const code = customPairingCode ?? bytesToCrockford(randomBytes(5));
    const { creds } = this.host;
    creds.pairingCode = code;
    creds.me = { id: `${digits}@s.whatsapp.net`, name: '~' };
    this.host.ev.emit('creds.update', creds);
    this.host.cancel(this.pairTimer);
    this.pairTimer = this.host.schedule(this.host.network.options.qrScanDelayMs, () => this.pair());
    return code;
  }

  /** The phone linked us: new creds, then the server asks for a restart. */
  private pair(): void {
    const { creds, network, ev } = this.host;
    this.host.cancel(this.qrTimer);
    const me = network.world.me;
    const update: Partial<AuthenticationCreds> = {
      me: {
        id: `${userOf(me.pn)}:1@s.whatsapp.net`,
        lid: `${userOf(me.lid)}:1@lid`,
        name: me.name,
      },
      registered: true,
      platform: 'android',
      pairingCode: undefined,
    };
    Object.assign(creds, update);
    network.link(creds.advSecretKey);
    ev.emit('creds.update', update);
    ev.emit('connection.update', { isNewLogin: true, qr: undefined });
    this.host.schedule(0, () => {
      this.host.end(boom('Stream Errored (restart required)', DisconnectReason.restartRequired));
    });
  }

  /** `ref,noiseKey,identityKey,advSecret`, the payload WhatsApp's QR codes carry. */
  private qrData(): string {
    const { creds } = this.host;
    const ref = `2@${randomBytes(36).toString('base64')}`;
    return [
      ref,
      Buffer.from(creds.noiseKey.public).toString('base64'),
      Buffer.from(creds.signedIdentityKey.public).toString('base64'),
      creds.advSecretKey,
    ].join(',');
  }
}
