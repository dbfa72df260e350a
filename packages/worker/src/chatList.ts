import type { Chat } from '@pollmasters/shared';
import { jidNormalizedUser } from '@whiskeysockets/baileys';
import type { PollSocket } from './socket.js';
import type { ChatStore } from './store/chatStore.js';

/** A contact as Baileys tells of one (history, upserts, updates): any of its JIDs, its names. */
export interface ContactInfo {
  id?: string | null;
  name?: string | null;
  notify?: string | null;
  verifiedName?: string | null;
  lid?: string | null;
  phoneNumber?: string | null;
}

/**
 * The account's chats and the names of the people in them, from what WhatsApp sends (history,
 * upserts, the groups we are in), kept in the chat store: it answers `listChats` also when
 * WhatsApp does not.
 */
export class ChatList {
  /** Each group's addressing mode, as the last fetch of our groups told it. */
  private readonly addressing = new Map<string, string>();

  constructor(private readonly store: ChatStore) {}

  list(): Chat[] | Promise<Chat[]> {
    return this.store.chats();
  }

  saveChats(chats: readonly { id?: string | null; name?: string | null }[]): void {
    this.store.saveChats(
      chats
        .filter((c): c is { id: string; name?: string | null } => !!c.id && isChatJid(c.id))
        .map((c) => ({
          id: jidNormalizedUser(c.id),
          name: c.name ?? null,
          isGroup: c.id.endsWith('@g.us'),
        })),
    );
  }

  saveContacts(contacts: readonly ContactInfo[]): void {
    const named: { id: string; name: string | null }[] = [];
    for (const c of contacts) {
      const name = c.name ?? c.notify ?? c.verifiedName ?? null;
      for (const jid of [c.id, c.lid, c.phoneNumber]) {
        if (jid && isChatJid(jid)) named.push({ id: jidNormalizedUser(jid), name });
      }
    }
    this.store.saveContacts(named);
  }

  /** Asks WhatsApp for the groups we are in and stores them. */
  async refreshGroups(sock: Pick<PollSocket, 'groupFetchAllParticipating'>): Promise<void> {
    const groups = await sock.groupFetchAllParticipating();
    for (const g of Object.values(groups)) {
      if (g.addressingMode) this.addressing.set(g.id, g.addressingMode);
    }
    this.store.saveChats(
      Object.values(groups).map((g) => ({ id: g.id, name: g.subject, isGroup: true })),
    );
  }

  /**
   * Whether the chat addresses its members (us included) by LID: a `@lid` direct chat, or a
   * group in LID mode. A group not fetched yet counts as LID-addressed, as Baileys assumes
   * when it sends without the group's metadata.
   */
  isLidAddressed(chatId: string): boolean {
    if (chatId.endsWith('@g.us')) return this.addressing.get(chatId) !== 'pn';
    return chatId.endsWith('@lid');
  }
}

const isChatJid = (jid: string): boolean =>
  jid.endsWith('@s.whatsapp.net') || jid.endsWith('@g.us') || jid.endsWith('@lid');
