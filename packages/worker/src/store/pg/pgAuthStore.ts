import type { Logger } from '@pollmasters/shared';
import {
  type AuthenticationCreds,
  type AuthenticationState,
  initAuthCreds,
  type SignalDataTypeMap,
} from '@whiskeysockets/baileys';
import { type AuthStore, deserialize, keyOf, resetCreds, serialize } from '../authState.js';
import type { PgSession } from './pgSession.js';

/** Baileys auth state in PostgreSQL: every `keys.set` one transaction, as on SQLite. */
const open = async (pg: PgSession, logger: Logger): Promise<AuthStore> => {
  const sid = pg.sessionId;
  const [stored] = await pg.read<{ value: string }>(
    'SELECT value FROM auth_creds WHERE session_id = $1',
    [sid],
  );
  const creds: AuthenticationCreds = stored
    ? deserialize<AuthenticationCreds>(stored.value)
    : initAuthCreds();
  const putCreds = (value: string) =>
    pg.exec(
      `INSERT INTO auth_creds (session_id, value) VALUES ($1, $2)
       ON CONFLICT (session_id) DO UPDATE SET value = excluded.value`,
      [sid, value],
    );
  const logged = (what: string, write: Promise<void>) =>
    write.catch((err: unknown) => logger.error({ err }, `could not store ${what}`));

  const state: AuthenticationState = {
    creds,
    keys: {
      get: async <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
        const rows = await pg.read<{ id: string; value: string }>(
          'SELECT id, value FROM auth_keys WHERE session_id = $1 AND type = $2 AND id = ANY($3::text[])',
          [sid, type, ids],
        );
        const result: { [id: string]: SignalDataTypeMap[T] } = {};
        for (const r of rows) result[r.id] = keyOf(type, r.value);
        return result;
      },
      set: (data) =>
        pg.transaction(() => {
          for (const [type, entries] of Object.entries(data)) {
            for (const [id, value] of Object.entries(entries ?? {})) {
              if (value === null || value === undefined) {
                pg.exec('DELETE FROM auth_keys WHERE session_id = $1 AND type = $2 AND id = $3', [
                  sid,
                  type,
                  id,
                ]);
              } else {
                pg.exec(
                  `INSERT INTO auth_keys (session_id, type, id, value) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (session_id, type, id) DO UPDATE SET value = excluded.value`,
                  [sid, type, id, serialize(value)],
                );
              }
            }
          }
        }),
      clear: () =>
        pg.transaction(() => pg.exec('DELETE FROM auth_keys WHERE session_id = $1', [sid])),
    },
  };

  return {
    state,
    saveCreds: () =>
      logged(
        'the login',
        pg.transaction(() => putCreds(serialize(state.creds))),
      ),
    wipe: () => {
      resetCreds(state.creds);
      const fresh = serialize(state.creds);
      return logged(
        'the wiped login',
        pg.transaction(() => {
          pg.exec('DELETE FROM auth_keys WHERE session_id = $1', [sid]);
          putCreds(fresh);
        }),
      );
    },
  };
};

export const PgAuthStore = { open };
