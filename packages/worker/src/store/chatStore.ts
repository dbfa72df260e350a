import type { Chat } from '@pollmasters/shared';
import type { Db } from './database.js';

/** Which candidate pair authenticated a vote in a chat: tried first next time. */
export interface PairHint {
  creatorIndex: number;
  voterSource: string;
}

/** A chat as stored. */
export interface ChatInput {
  id: string;
  name?: string | null;
  isGroup: boolean;
}

/**
 * Chats, contact names and per-chat pair hints (one implementation per engine): names and
 * hints are held in memory for the vote path; writes commit at once on SQLite, in order on
 * PostgreSQL.
 */
export interface ChatStore {
  saveChats(chats: readonly ChatInput[]): void;
  /** Names of people (by PN or LID JID); empty names are ignored. */
  saveContacts(contacts: readonly { id: string; name?: string | null }[]): void;
  nameOf(jid: string): string | undefined;
  /** Every chat, named (contact name, else the number), sorted by name. */
  chats(): Chat[] | Promise<Chat[]>;
  hint(chatId: string): PairHint | undefined;
  /** The pair that authenticated a vote in this chat; stored when it is not the one known. */
  rememberPair(chatId: string, creatorIndex: number, voterSource: string): void;
}

/** How chats are listed: named (contact name, else the number), sorted by name. */
export const namedChats = (
  rows: readonly { id: string; name: string | null; isGroup: boolean }[],
  names: ReadonlyMap<string, string>,
): Chat[] =>
  rows
    .map((row) => ({
      id: row.id,
      name: row.name || names.get(row.id) || row.id.split('@')[0]!,
      isGroup: row.isGroup,
    }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));

/**
 * Records the pair that authenticated a vote in a chat; whether it is new (then it is stored).
 */
export const learnHint = (
  hints: Map<string, PairHint>,
  chatId: string,
  creatorIndex: number,
  voterSource: string,
): boolean => {
  const known = hints.get(chatId);
  if (known && known.creatorIndex === creatorIndex && known.voterSource === voterSource) {
    return false;
  }
  hints.set(chatId, { creatorIndex, voterSource });
  return true;
};

/** Chats, contact names and per-chat pair hints, kept in SQLite. */
export class SqliteChatStore implements ChatStore {
  private readonly names = new Map<string, string>();
  private readonly hints = new Map<string, PairHint>();
  private readonly upsertChat;
  private readonly upsertContact;
  private readonly upsertHint;
  private readonly listChats;

  constructor(db: Db) {
    for (const row of db
      .prepare<[], { id: string; name: string | null }>('SELECT id, name FROM contacts')
      .iterate()) {
      if (row.name) this.names.set(row.id, row.name);
    }
    for (const row of db
      .prepare<[], { chat_id: string; creator_index: number; voter_source: string }>(
        'SELECT * FROM chat_pairs',
      )
      .iterate()) {
      this.hints.set(row.chat_id, {
        creatorIndex: row.creator_index,
        voterSource: row.voter_source,
      });
    }
    const chat = db.prepare<[string, string | null, number]>(
      `INSERT INTO chats (id, name, is_group) VALUES (?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = coalesce(excluded.name, chats.name)`,
    );
    this.upsertChat = db.transaction(
      (chats: readonly { id: string; name?: string | null; isGroup: boolean }[]) => {
        for (const c of chats) chat.run(c.id, c.name ?? null, c.isGroup ? 1 : 0);
      },
    );
    const contact = db.prepare<[string, string]>(
      `INSERT INTO contacts (id, name) VALUES (?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name`,
    );
    this.upsertContact = db.transaction((contacts: readonly { id: string; name: string }[]) => {
      for (const c of contacts) contact.run(c.id, c.name);
    });
    this.upsertHint = db.prepare<[string, number, string]>(
      `INSERT INTO chat_pairs (chat_id, creator_index, voter_source) VALUES (?, ?, ?)
       ON CONFLICT (chat_id) DO UPDATE SET creator_index = excluded.creator_index,
         voter_source = excluded.voter_source`,
    );
    this.listChats = db.prepare<[], { id: string; name: string | null; is_group: number }>(
      'SELECT id, name, is_group FROM chats',
    );
  }

  saveChats(chats: readonly { id: string; name?: string | null; isGroup: boolean }[]): void {
    if (chats.length) this.upsertChat(chats);
  }

  /** Names of people (by PN or LID JID); empty names are ignored. */
  saveContacts(contacts: readonly { id: string; name?: string | null }[]): void {
    const named = contacts.filter((c): c is { id: string; name: string } => !!c.name?.trim());
    if (!named.length) return;
    for (const c of named) this.names.set(c.id, c.name);
    this.upsertContact(named);
  }

  nameOf(jid: string): string | undefined {
    return this.names.get(jid);
  }

  /** Every chat, named (contact name, else the number), sorted by name. */
  chats(): Chat[] {
    const rows = this.listChats.all().map((r) => ({ ...r, isGroup: r.is_group === 1 }));
    return namedChats(rows, this.names);
  }

  hint(chatId: string): PairHint | undefined {
    return this.hints.get(chatId);
  }

  /** The pair that authenticated a vote in this chat; stored when it is not the one known. */
  rememberPair(chatId: string, creatorIndex: number, voterSource: string): void {
    if (learnHint(this.hints, chatId, creatorIndex, voterSource)) {
      this.upsertHint.run(chatId, creatorIndex, voterSource);
    }
  }
}
