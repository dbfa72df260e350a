import {
  type AuthenticationCreds,
  type AuthenticationState,
  BufferJSON,
  initAuthCreds,
  proto,
  type SignalDataSet,
  type SignalDataTypeMap,
} from '@whiskeysockets/baileys';
import type { Db } from './database.js';

/**
 * A session's Baileys auth state (one implementation per engine). Writes commit at once on
 * SQLite, in order on PostgreSQL (the promise settles then; a failure is logged there).
 */
export interface AuthStore {
  state: AuthenticationState;
  /** Persists the current creds (call on `creds.update`). */
  saveCreds(): void | Promise<void>;
  /** Forgets creds and keys (after logout) and starts over with fresh creds. */
  wipe(): void | Promise<void>;
}

export const serialize = (value: unknown): string => JSON.stringify(value, BufferJSON.replacer);
export const deserialize = <T>(text: string): T => JSON.parse(text, BufferJSON.reviver) as T;

/** A stored key as Baileys wants it back. */
export const keyOf = <T extends keyof SignalDataTypeMap>(
  type: T,
  text: string,
): SignalDataTypeMap[T] => {
  const value = deserialize<SignalDataTypeMap[T]>(text);
  return type === 'app-state-sync-key'
    ? (proto.Message.AppStateSyncKeyData.fromObject(
        value as object,
      ) as unknown as SignalDataTypeMap[T])
    : value;
};

/** Resets `creds` in place: sockets created later read the same object. */
export const resetCreds = (creds: AuthenticationCreds): void => {
  for (const key of Object.keys(creds)) delete (creds as Record<string, unknown>)[key];
  Object.assign(creds, initAuthCreds());
};

/**
 * Baileys auth state (creds and signal keys) in SQLite: every `keys.set` is one transaction,
 * so a crash never leaves half a key update behind.
 */
export const useSqliteAuthState = (db: Db): AuthStore => {
  const readCreds = db.prepare<[], { value: string }>('SELECT value FROM auth_creds WHERE id = 1');
  const writeCreds = db.prepare<[string]>(
    'INSERT INTO auth_creds (id, value) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET value = excluded.value',
  );
  const getKey = db.prepare<[string, string], { value: string }>(
    'SELECT value FROM auth_keys WHERE type = ? AND id = ?',
  );
  const putKey = db.prepare<[string, string, string]>(
    'INSERT INTO auth_keys (type, id, value) VALUES (?, ?, ?) ON CONFLICT (type, id) DO UPDATE SET value = excluded.value',
  );
  const deleteKey = db.prepare<[string, string]>('DELETE FROM auth_keys WHERE type = ? AND id = ?');

  const stored = readCreds.get();
  const creds: AuthenticationCreds = stored
    ? deserialize<AuthenticationCreds>(stored.value)
    : initAuthCreds();

  const setKeys = db.transaction((data: SignalDataSet) => {
    for (const [type, entries] of Object.entries(data)) {
      for (const [id, value] of Object.entries(entries ?? {})) {
        if (value === null || value === undefined) deleteKey.run(type, id);
        else putKey.run(type, id, serialize(value));
      }
    }
  });

  const state: AuthenticationState = {
    creds,
    keys: {
      get: <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
        const result: { [id: string]: SignalDataTypeMap[T] } = {};
        for (const id of ids) {
          const row = getKey.get(type, id);
          if (!row) continue;
          result[id] = keyOf(type, row.value);
        }
        return result;
      },
      set: (data) => setKeys(data),
      clear: () => {
        db.prepare('DELETE FROM auth_keys').run();
      },
    },
  };

  return {
    state,
    saveCreds: () => {
      writeCreds.run(serialize(state.creds));
    },
    wipe: db.transaction(() => {
      db.prepare('DELETE FROM auth_keys').run();
      db.prepare('DELETE FROM auth_creds').run();
      resetCreds(state.creds);
      writeCreds.run(serialize(state.creds));
    }),
  };
};
