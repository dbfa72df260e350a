import type { Chat, Logger } from '@pollmasters/shared';
import {
  type ChatInput,
  type ChatStore,
  learnHint,
  namedChats,
  type PairHint,
} from '../chatStore.js';
import type { PgSession } from './pgSession.js';

/** Chats, contact names and pair hints in PostgreSQL; names and hints loaded at open. */
export class PgChatStore implements ChatStore {
  private readonly names = new Map<string, string>();
  private readonly hints = new Map<string, PairHint>();

  private constructor(
    private readonly pg: PgSession,
    private readonly logger: Logger,
  ) {}

  static async open(pg: PgSession, logger: Logger): Promise<PgChatStore> {
    const store = new PgChatStore(pg, logger);
    const sid = [pg.sessionId];
    for (const r of await pg.read<{ id: string; name: string | null }>(
      'SELECT id, name FROM contacts WHERE session_id = $1',
      sid,
    )) {
      if (r.name) store.names.set(r.id, r.name);
    }
    for (const r of await pg.read<{ chat_id: string; creator_index: number; voter_source: string }>(
      'SELECT chat_id, creator_index, voter_source FROM chat_pairs WHERE session_id = $1',
      sid,
    )) {
      store.hints.set(r.chat_id, { creatorIndex: r.creator_index, voterSource: r.voter_source });
    }
    return store;
  }

  saveChats(chats: readonly ChatInput[]): void {
    if (!chats.length) return;
    this.settle(
      this.pg.exec(
        // One row per chat (an upsert may not touch a row twice): its last name given, as
        // SQLite's upserts one after another keep.
        `INSERT INTO chats (session_id, id, name, is_group)
         SELECT DISTINCT ON (i) $1, i, n, g FROM unnest($2::text[], $3::text[], $4::boolean[])
           WITH ORDINALITY AS u(i, n, g, o) ORDER BY i, n IS NULL, o DESC
         ON CONFLICT (session_id, id) DO UPDATE SET name = coalesce(excluded.name, chats.name)`,
        [
          this.pg.sessionId,
          chats.map((c) => c.id),
          chats.map((c) => c.name ?? null),
          chats.map((c) => c.isGroup),
        ],
      ),
    );
  }

  saveContacts(contacts: readonly { id: string; name?: string | null }[]): void {
    const named = contacts.filter((c): c is { id: string; name: string } => !!c.name?.trim());
    if (!named.length) return;
    for (const c of named) this.names.set(c.id, c.name);
    this.settle(
      this.pg.exec(
        `INSERT INTO contacts (session_id, id, name)
         SELECT DISTINCT ON (i) $1, i, n FROM unnest($2::text[], $3::text[])
           WITH ORDINALITY AS u(i, n, o) ORDER BY i, o DESC
         ON CONFLICT (session_id, id) DO UPDATE SET name = excluded.name`,
        [this.pg.sessionId, named.map((c) => c.id), named.map((c) => c.name)],
      ),
    );
  }

  nameOf(jid: string): string | undefined {
    return this.names.get(jid);
  }

  async chats(): Promise<Chat[]> {
    const rows = await this.pg.read<{ id: string; name: string | null; is_group: boolean }>(
      'SELECT id, name, is_group FROM chats WHERE session_id = $1',
      [this.pg.sessionId],
    );
    return namedChats(
      rows.map((r) => ({ id: r.id, name: r.name, isGroup: r.is_group })),
      this.names,
    );
  }

  hint(chatId: string): PairHint | undefined {
    return this.hints.get(chatId);
  }

  rememberPair(chatId: string, creatorIndex: number, voterSource: string): void {
    if (!learnHint(this.hints, chatId, creatorIndex, voterSource)) return;
    this.settle(
      this.pg.exec(
        `INSERT INTO chat_pairs (session_id, chat_id, creator_index, voter_source)
         VALUES ($1, $2, $3, $4) ON CONFLICT (session_id, chat_id) DO UPDATE
         SET creator_index = excluded.creator_index, voter_source = excluded.voter_source`,
        [this.pg.sessionId, chatId, creatorIndex, voterSource],
      ),
    );
  }

  /** A write of its own: committed in order; a failure is logged (the session goes on). */
  private settle(write: Promise<void> | undefined): void {
    write?.catch((err: unknown) => this.logger.error({ err }, 'could not store chats'));
  }
}
