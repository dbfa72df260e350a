import {
  type AnyMessageContent,
  DisconnectReason,
  generateMessageIDV2,
  generateWAMessage,
  jidNormalizedUser,
  type MessageRelayOptions,
  type MiscMessageGenerationOptions,
  makeEventBuffer,
  type proto,
  type WAMediaUploadFunction,
  type WAMessage,
} from '@whiskeysockets/baileys';
import type { PollSocket, PollSocketConfig } from '../socket.js';
import { boom } from './boom.js';
import { Registration } from './login.js';
import { groupMetadata, historySet } from './metadata.js';
import type { Connection, Network } from './network.js';
import { findChat } from './world.js';

const noUpload: WAMediaUploadFunction = async () => {
  throw boom('The sandbox does not upload media', 501);
};

/**
 * One connection to the simulated network, with the slice of Baileys' socket the worker uses.
 * Like Baileys, it is single-use: after a close the app makes a new one.
 */
export function createSandboxSocket(network: Network, config: PollSocketConfig): PollSocket {
  const logger = config.logger ?? network.logger;
  const { creds } = config.auth;
  const ev = makeEventBuffer(logger);
  const timers = new Set<NodeJS.Timeout>();
  let state: 'connecting' | 'open' | 'closed' = 'connecting';

  const schedule = (delayMs: number, run: () => void): NodeJS.Timeout => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (state !== 'closed') run();
    }, delayMs);
    timers.add(timer);
    return timer;
  };
  const cancel = (timer: NodeJS.Timeout | undefined): void => {
    if (!timer) return;
    clearTimeout(timer);
    timers.delete(timer);
  };

  /** Idempotent, as in Baileys: clears every timer, reports the close once, drops listeners. */
  const end = async (error?: Error): Promise<void> => {
    if (state === 'closed') return;
    state = 'closed';
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    network.unregister(connection);
    logger.info(
      { err: error },
      error ? 'sandbox: connection errored' : 'sandbox: connection closed',
    );
    ev.emit('connection.update', {
      connection: 'close',
      lastDisconnect: { error, date: new Date() },
    });
    ev.removeAllListeners('connection.update');
    ev.destroy();
  };

  /** Baileys throws this when a request is made without a live connection. */
  const assertOpen = (): void => {
    if (state !== 'open') throw boom('Connection Closed', DisconnectReason.connectionClosed);
  };

  const connection: Connection = {
    get deviceKey() {
      return creds.registered ? creds.advSecretKey : undefined;
    },
    deliver(messages: WAMessage[]) {
      if (state === 'open') ev.emit('messages.upsert', { type: 'notify', messages });
    },
    kill(error: Error) {
      void end(error);
    },
  };
  network.register(connection);

  const registration = new Registration({
    network,
    creds,
    ev,
    qrTimeout: config.qrTimeout,
    schedule,
    cancel,
    end: (error) => void end(error),
  });

  /** Login with registered creds: open, history, then what arrived while we were away. */
  const login = (): void => {
    if (network.isRevoked(creds.advSecretKey)) {
      void end(boom('Connection Failure', DisconnectReason.loggedOut, { reason: '401' }));
      return;
    }
    state = 'open';
    const me = {
      ...creds.me,
      id: creds.me?.id ?? network.world.me.pn,
      lid: creds.me?.lid ?? network.world.me.lid,
    };
    Object.assign(creds, { me });
    ev.emit('creds.update', { me });
    ev.emit('connection.update', { connection: 'open' });
    const waiting = network.goOnline(connection);
    // Like Baileys, the history sync's messages come once per link: on the first login of
    // these creds, which then record that they processed it.
    const firstLogin = !creds.processedHistoryMessages?.length;
    const past = firstLogin ? network.creators.historySync() : [];
    ev.emit('messaging-history.set', historySet(network.world, past));
    if (firstLogin) {
      const processedHistoryMessages = [
        {
          key: { remoteJid: me.id, fromMe: true, id: 'sandbox-history' },
          messageTimestamp: Date.now() / 1000,
        },
      ];
      Object.assign(creds, { processedHistoryMessages });
      ev.emit('creds.update', { processedHistoryMessages });
    }
    if (waiting.length > 0) ev.emit('messages.upsert', { type: 'notify', messages: waiting });
    // Baileys buffers from `connecting` until the offline notifications are handled.
    ev.flush();
    ev.emit('connection.update', { receivedPendingNotifications: true });
  };

  process.nextTick(() => {
    if (state === 'closed') return;
    const registered = Boolean(creds.registered && creds.me?.id);
    if (registered) ev.buffer();
    ev.emit('connection.update', {
      connection: 'connecting',
      receivedPendingNotifications: false,
      qr: undefined,
    });
    schedule(network.options.connectDelayMs, registered ? login : () => registration.start());
  });

  const sendMessage = async (
    jid: string,
    content: AnyMessageContent,
    options: MiscMessageGenerationOptions = {},
  ): Promise<WAMessage | undefined> => {
    assertOpen();
    const chat = findChat(network.world, jidNormalizedUser(jid));
    if (!chat) throw boom('item-not-found', 404, { jid });
    const userJid = creds.me?.id ?? network.world.me.pn;
    const message = await generateWAMessage(jid, content, {
      logger,
      userJid,
      messageId: generateMessageIDV2(userJid),
      upload: noUpload,
      ...options,
    });
    assertOpen();
    const inner = message.message;
    const poll =
      inner?.pollCreationMessage ?? inner?.pollCreationMessageV2 ?? inner?.pollCreationMessageV3;
    const secret = inner?.messageContextInfo?.messageSecret;
    if (poll && secret && message.key.id) {
      network.addPoll({
        id: message.key.id,
        chatId: chat.id,
        name: poll.name ?? '',
        options: (poll.options ?? []).map((option) => option.optionName ?? ''),
        selectableCount: poll.selectableOptionsCount ?? 0,
        messageSecret: Buffer.from(secret).toString('base64'),
        creatorPn: network.world.me.pn,
        creatorLid: network.world.me.lid,
        origin: 'api',
        history: false,
      });
    }
    // Baileys' `emitOwnEvents`: our own message comes back as an `append`, on the next tick.
    process.nextTick(() => {
      if (state === 'open') ev.emit('messages.upsert', { type: 'append', messages: [message] });
    });
    return message;
  };

  /** Like Baileys', it reports nothing back: a relayed message is no `messages.upsert`. */
  const relayMessage = async (
    jid: string,
    message: proto.IMessage,
    options: MessageRelayOptions,
  ): Promise<string> => {
    assertOpen();
    const chat = findChat(network.world, jidNormalizedUser(jid));
    if (!chat) throw boom('item-not-found', 404, { jid });
    const messageId = options.messageId ?? generateMessageIDV2(creds.me?.id);
    network.relay(chat, message, messageId);
    return messageId;
  };

  return {
    ev,
    get user() {
      return creds.me;
    },
    sendMessage,
    relayMessage,
    groupFetchAllParticipating: async () => {
      assertOpen();
      const { groupFetchDelayMs } = network.options;
      if (groupFetchDelayMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, groupFetchDelayMs));
        assertOpen();
      }
      return groupMetadata(network.world);
    },
    logout: async (msg?: string) => {
      if (state === 'closed') throw boom('Connection Closed', DisconnectReason.connectionClosed);
      network.revoke(connection.deviceKey);
      await end(boom(msg || 'Intentional Logout', DisconnectReason.loggedOut));
    },
    end,
    requestPairingCode: async (phoneNumber: string, customPairingCode?: string) => {
      if (state === 'closed') throw boom('Connection Closed', DisconnectReason.connectionClosed);
      if (state === 'open') throw boom('Already linked', 400);
      return registration.requestPairingCode(phoneNumber, customPairingCode);
    },
    signalRepository: {
      lidMapping: {
        getPNForLID: async (lid: string) => network.getPNForLID(lid),
        getLIDForPN: async (pn: string) => network.getLIDForPN(pn),
      },
    },
  };
}
