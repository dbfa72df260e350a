import { useSyncExternalStore } from 'react';

/** Whether the live connection (the tRPC WebSocket) is up, for the banner. */
export type ConnectionState = 'connecting' | 'open' | 'closed';

let state: ConnectionState = 'connecting';
const listeners = new Set<() => void>();

export const setConnectionState = (next: ConnectionState): void => {
  if (next === state) return;
  state = next;
  for (const listener of listeners) listener();
};

const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};

export const useConnectionState = (): ConnectionState =>
  useSyncExternalStore(subscribe, () => state);
