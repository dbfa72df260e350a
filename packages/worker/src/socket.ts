import type {
  AuthenticationState,
  UserFacingSocketConfig,
  WASocket,
} from '@whiskeysockets/baileys';

/**
 * The slice of a Baileys socket that the worker uses (see docs/design.md, "WhatsApp through
 * Baileys"). The real socket and the sandbox both provide it; widen it only on purpose.
 */
export type PollSocket = Pick<
  WASocket,
  | 'ev'
  | 'user'
  | 'sendMessage'
  | 'relayMessage'
  | 'groupFetchAllParticipating'
  | 'logout'
  | 'end'
  | 'requestPairingCode'
> & {
  signalRepository: {
    lidMapping: Pick<WASocket['signalRepository']['lidMapping'], 'getPNForLID' | 'getLIDForPN'>;
  };
};

/** The config the worker passes to `makeWASocket`; a socket module may ignore what it does not need. */
export type PollSocketConfig = Partial<UserFacingSocketConfig> & { auth: AuthenticationState };

export type MakePollSocket = (config: PollSocketConfig) => PollSocket;
