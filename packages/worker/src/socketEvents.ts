import type { BaileysEventMap } from '@whiskeysockets/baileys';
import type { PollSocket } from './socket.js';

/** A batch of a socket's events, at most one of each kind. */
export type SocketEvents = Partial<BaileysEventMap>;

/** The events the session reads (./session.ts). */
const handled = [
  'creds.update',
  'connection.update',
  'messaging-history.set',
  'chats.upsert',
  'contacts.upsert',
  'contacts.update',
  'lid-mapping.update',
  'messages.upsert',
] as const satisfies readonly (keyof BaileysEventMap)[];

/**
 * Consumes a socket's events in batches through `ev.process` (Baileys' buffered events: one
 * batch, one transaction); a socket whose `ev` has only `on`/`off` gets one batch per event.
 * Returns the function that stops it.
 */
export const subscribe = (
  sock: PollSocket,
  handler: (events: SocketEvents) => void,
): (() => void) => {
  if (typeof sock.ev.process === 'function') return sock.ev.process(handler);
  const listeners = handled.map((name) => {
    const listener = (data: unknown) => handler({ [name]: data } as SocketEvents);
    sock.ev.on(name, listener);
    return () => sock.ev.off(name, listener);
  });
  return () => {
    for (const off of listeners) off();
  };
};
