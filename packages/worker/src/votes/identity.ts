import type { WhatsAppUser } from '@pollmasters/shared';
import { jidNormalizedUser } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import type { PollSocket } from '../socket.js';

/** The account's own JIDs, normalised: its phone number's (PN) and its LID, where known. */
export interface OwnJids {
  pn?: string | undefined;
  lid?: string | undefined;
}

/** Who we are, and the PN <-> LID mapping WhatsApp gave us. */
export interface Identity {
  me(): OwnJids;
  pnForLid(lid: string): Promise<string | undefined>;
  lidForPn(pn: string): Promise<string | undefined>;
}

/** Where the account's identity is read: the live socket, else the stored credentials. */
export interface IdentitySource {
  socket(): PollSocket | null;
  stored(): PollSocket['user'];
}

/**
 * The account a session is logged in as: its JIDs and name as the socket (or, before it
 * opens, the stored credentials) has them, and WhatsApp's mapping as the current socket
 * answers it.
 */
export class AccountIdentity implements Identity {
  private cache: { id: string | undefined; lid: string | null | undefined; jids: OwnJids } | null =
    null;

  constructor(
    private readonly source: IdentitySource,
    private readonly logger: Logger,
  ) {}

  /** Our PN and LID, normalised; recomputed only when the account's JIDs change. */
  me(): OwnJids {
    const me = this.account();
    const cached = this.cache;
    if (cached && cached.id === me?.id && cached.lid === me?.lid) return cached.jids;
    const jids = {
      pn: me?.id ? jidNormalizedUser(me.id) : undefined,
      lid: me?.lid ? jidNormalizedUser(me.lid) : undefined,
    };
    this.cache = { id: me?.id, lid: me?.lid, jids };
    return jids;
  }

  /** The logged-in user as the API shows it. */
  user(): WhatsAppUser {
    const me = this.account();
    const id = jidNormalizedUser(me?.id ?? '');
    const name = me?.name ?? me?.notify ?? me?.verifiedName ?? undefined;
    return name ? { id, name } : { id };
  }

  pnForLid(lid: string): Promise<string | undefined> {
    return this.lookup((m) => m.getPNForLID(lid));
  }

  lidForPn(pn: string): Promise<string | undefined> {
    return this.lookup((m) => m.getLIDForPN(pn));
  }

  private account(): PollSocket['user'] {
    return this.source.socket()?.user ?? this.source.stored();
  }

  private async lookup(
    ask: (m: PollSocket['signalRepository']['lidMapping']) => Promise<string | null>,
  ): Promise<string | undefined> {
    // Not cached here: the vote processor caches answers (hits, and misses briefly).
    const sock = this.source.socket();
    if (!sock) return undefined;
    try {
      const found = await ask(sock.signalRepository.lidMapping);
      return found ? jidNormalizedUser(found) : undefined;
    } catch (err) {
      this.logger.debug({ err }, 'LID mapping lookup failed');
      return undefined;
    }
  }
}
