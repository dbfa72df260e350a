import type {
  BaileysEventMap,
  Chat,
  Contact,
  GroupMetadata,
  GroupParticipant,
  WAMessage,
} from '@whiskeysockets/baileys';
import type { Person, World, WorldChat } from './world.js';

/** The groups as `groupFetchAllParticipating` returns them (Baileys' `extractGroupMetadata`). */
export function groupMetadata(world: World): Record<string, GroupMetadata> {
  const out: Record<string, GroupMetadata> = {};
  for (const chat of world.chats) {
    if (chat.kind !== 'group') continue;
    const self: Person = { ...world.me, mappingKnown: true };
    const participants = [
      participant(chat, self, 'superadmin'),
      ...chat.members.map((member) => participant(chat, member, null)),
    ];
    const owner = chat.addressingMode === 'lid' ? world.me.lid : world.me.pn;
    out[chat.id] = {
      id: chat.id,
      addressingMode: chat.addressingMode as GroupMetadata['addressingMode'],
      subject: chat.name,
      subjectOwner: owner,
      subjectTime: chat.creation,
      creation: chat.creation,
      owner,
      ownerPn: chat.addressingMode === 'lid' ? world.me.pn : undefined,
      size: participants.length,
      restrict: false,
      announce: false,
      isCommunity: false,
      isCommunityAnnounce: false,
      joinApprovalMode: false,
      memberAddMode: false,
      participants,
    };
  }
  return out;
}

/** A participant as WhatsApp lists it: by LID in a LID group (PN only where known), else by PN. */
function participant(
  chat: WorldChat,
  person: Person,
  admin: GroupParticipant['admin'],
): GroupParticipant {
  if (chat.addressingMode === 'lid') {
    return {
      id: person.lid,
      phoneNumber: person.mappingKnown ? person.pn : undefined,
      admin,
    };
  }
  return { id: person.pn, lid: person.lid, admin };
}

/**
 * The initial history sync after login: every chat with its name, the contacts, and `messages`
 * (the first login's polls from before the link, ./creators.ts). Saved contacts (direct
 * chats) carry `name`; group members only their own `notify` name, and a phone number only
 * where it is known.
 */
export function historySet(
  world: World,
  messages: WAMessage[] = [],
): BaileysEventMap['messaging-history.set'] {
  const chats: Chat[] = world.chats.map((chat) => ({
    id: chat.id,
    name: chat.name,
    conversationTimestamp: chat.creation,
    unreadCount: 0,
  }));
  const contacts: Contact[] = [];
  for (const chat of world.chats) {
    for (const person of chat.members) {
      if (chat.kind === 'direct') {
        contacts.push(
          chat.addressingMode === 'lid'
            ? { id: person.lid, phoneNumber: person.pn, name: person.name, notify: person.name }
            : { id: person.pn, lid: person.lid, name: person.name, notify: person.name },
        );
      } else {
        contacts.push({
          id: person.lid,
          notify: person.name,
          ...(person.mappingKnown ? { phoneNumber: person.pn } : {}),
        });
      }
    }
  }
  return { chats, contacts, messages, isLatest: true, progress: 100 };
}
