import { jidDecode, jidEncode } from '@whiskeysockets/baileys';
import type { SandboxOptions } from './options.js';
import { deriveSeed, Random } from './random.js';

/** Someone in the simulated network. Every person has both a PN and a LID. */
export interface Person {
  /** `<digits>@s.whatsapp.net` */
  pn: string;
  /** `<digits>@lid` */
  lid: string;
  name: string;
  /** Whether our `lidMapping` knows this person's PN <-> LID pair. */
  mappingKnown: boolean;
}

/** Which form of the JIDs signs a vote in a chat (the poll creator's, the voter's). */
export interface Signing {
  creator: 'pn' | 'lid';
  voter: 'pn' | 'lid';
}

export interface WorldChat {
  /** The chat JID: a group (`@g.us`), a contact's PN, or a contact's LID. */
  id: string;
  kind: 'group' | 'direct';
  /** Group subject, or the contact's saved name. */
  name: string;
  addressingMode: 'pn' | 'lid';
  /** Everyone in the chat but us. A direct chat has exactly one. */
  members: Person[];
  signing: Signing;
  /** Creation time, unix seconds. */
  creation: number;
}

export interface World {
  me: { pn: string; lid: string; name: string };
  people: Person[];
  chats: WorldChat[];
}

/** The account the sandbox links to, the same in every world. */
export const OWN_ACCOUNT = {
  pn: '15550000001@s.whatsapp.net',
  lid: '100000000000001@lid',
  name: 'PollMasters Sandbox',
} as const;

// biome-ignore format: a word list
const FIRST_NAMES = [
  'Ana', 'Ben', 'Chloé', 'Dmitri', 'Emeka', 'Fatima', 'Giulia', 'Hiro', 'Inés', 'Jonas', 'Kwame',
  'Lena', 'Mateo', 'Nadia', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tomás', 'Uma', 'Viktor',
  'Wen', 'Ximena', 'Yusuf', 'Zoë',
];
// biome-ignore format: a word list
const LAST_NAMES = [
  'Almeida', 'Brandt', 'Costa', 'Dubois', 'Eze', 'Fischer', 'García', 'Haddad', 'Ivanova',
  'Jensen', 'Kim', 'Lopez', 'Müller', 'Nakamura', 'Okafor', 'Petrov', 'Rossi', 'Silva', 'Tanaka',
  'Weber',
];
// biome-ignore format: a word list
const SUBJECTS = [
  'Book club', 'Five-a-side football', 'Flat 3B', 'Choir altos', 'Climbing Tuesdays',
  'Family', 'Trip to Lisbon', 'Board games night', 'Parents of class 4', 'Garden allotment',
  'Running crew', 'Office lunch',
];

/**
 * Builds the seeded world: LID-addressed groups (the last member of the first one unknown to
 * `lidMapping`), a PN-addressed group signed with our LID and the voter's PN, PN-addressed
 * direct chats, and a LID-addressed direct chat signed with our PN and the voter's LID. That
 * covers every pairing of signing JIDs the worker must try (docs/design.md, "Votes").
 */
export function createWorld(
  options: Pick<SandboxOptions, 'seed' | 'groups' | 'membersPerGroup' | 'directChats'>,
): World {
  const random = new Random(deriveSeed(options.seed, 'world'));
  const usedDigits = new Set<string>([userOf(OWN_ACCOUNT.pn), userOf(OWN_ACCOUNT.lid)]);
  const unique = (make: () => string): string => {
    for (;;) {
      const digits = make();
      if (!usedDigits.has(digits)) {
        usedDigits.add(digits);
        return digits;
      }
    }
  };
  const usedNames = new Set<string>();
  const person = (): Person => {
    let name = `${random.pick(FIRST_NAMES)} ${random.pick(LAST_NAMES)}`;
    while (usedNames.has(name)) name = `${name} Jr`;
    usedNames.add(name);
    return {
      pn: `1555${unique(() => random.digits(7))}@s.whatsapp.net`,
      lid: `${unique(() => random.digits(15))}@lid`,
      name,
      mappingKnown: true,
    };
  };
  const creation = 1_700_000_000;
  const subjects = random.shuffle(SUBJECTS);
  const subject = (index: number): string =>
    subjects[index % subjects.length] + (index >= subjects.length ? ` ${index + 1}` : '');
  const groupJid = (): string => `120363${unique(() => random.digits(12))}@g.us`;

  const chats: WorldChat[] = [];
  for (let g = 0; g < options.groups; g++) {
    const members = Array.from({ length: options.membersPerGroup }, person);
    chats.push({
      id: groupJid(),
      kind: 'group',
      name: subject(g),
      addressingMode: 'lid',
      members,
      signing: { creator: 'lid', voter: 'lid' },
      creation: creation + g * 86_400,
    });
  }
  // Someone whose PN we never learn: the worker must fall back to the LID as the voter id.
  const unmapped = chats[0]?.members.at(-1);
  if (unmapped) unmapped.mappingKnown = false;

  chats.push({
    id: groupJid(),
    kind: 'group',
    name: subject(options.groups),
    addressingMode: 'pn',
    members: Array.from({ length: options.membersPerGroup }, person),
    signing: { creator: 'lid', voter: 'pn' },
    creation: creation - 86_400,
  });
  for (let d = 0; d < options.directChats; d++) {
    const contact = person();
    chats.push({
      id: contact.pn,
      kind: 'direct',
      name: contact.name,
      addressingMode: 'pn',
      members: [contact],
      signing: { creator: 'pn', voter: 'pn' },
      creation: creation + d * 3_600,
    });
  }
  const lidContact = person();
  chats.push({
    id: lidContact.lid,
    kind: 'direct',
    name: lidContact.name,
    addressingMode: 'lid',
    members: [lidContact],
    signing: { creator: 'pn', voter: 'lid' },
    creation: creation + 7_200,
  });

  return { me: { ...OWN_ACCOUNT }, people: chats.flatMap((chat) => chat.members), chats };
}

/** The digits of a JID, without server or device: `123:4@lid` -> `123`. */
export function userOf(jid: string): string {
  return jidDecode(jid)?.user ?? jid;
}

export function findChat(world: World, jid: string): WorldChat | undefined {
  return world.chats.find((chat) => chat.id === jid);
}

/** Finds a person by PN or LID, with or without a device suffix. */
export function findPerson(world: World, jid: string): Person | undefined {
  const decoded = jidDecode(jid);
  if (!decoded) return undefined;
  const bare = `${decoded.user}@${decoded.server}`;
  return world.people.find((p) => p.pn === bare || p.lid === bare);
}

/** The id the worker must count a person under: the PN when known, else the LID. */
export function canonicalId(person: Person): string {
  return person.mappingKnown ? person.pn : person.lid;
}

/**
 * What our `lidMapping` answers: the other form of a known person's JID (ours included), with
 * the device suffix carried over as Baileys does; `null` for someone whose mapping is unknown.
 */
export function translateJid(
  world: World,
  jid: string,
  from: 'lid' | 's.whatsapp.net',
): string | null {
  const decoded = jidDecode(jid);
  if (!decoded || decoded.server !== from) return null;
  const bare = `${decoded.user}@${decoded.server}`;
  const me: Person = { ...world.me, mappingKnown: true };
  const person = [me, ...world.people].find((p) => (from === 'lid' ? p.lid : p.pn) === bare);
  if (!person?.mappingKnown) return null;
  const target = jidDecode(from === 'lid' ? person.pn : person.lid);
  return target ? jidEncode(target.user, target.server, decoded.device) : null;
}
