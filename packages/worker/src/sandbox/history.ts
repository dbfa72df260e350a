import { randomBytes } from 'node:crypto';
import { newMessageId } from './creations.js';
import type { LedgerVote } from './ledger.js';
import type { SandboxOptions } from './options.js';
import { select } from './plan.js';
import { deriveSeed, Random } from './random.js';
import type { SentPoll } from './store.js';
import { canonicalId, type Person, type World } from './world.js';

/** A poll from before the app was linked, with its creator (none: the account's phone). */
export interface PastPoll {
  poll: Omit<SentPoll, 'sequence'>;
  creator: Person | undefined;
}

// biome-ignore format: a word list
const QUESTIONS: readonly [string, string[]][] = [
  ['Pizza or sushi tonight?', ['Pizza', 'Sushi']],
  ['Which day for the next meeting?', ['Monday', 'Wednesday', 'Friday']],
  ['Who brings the drinks?', ['Me', 'Someone else', 'Nobody']],
  ['Summer trip destination?', ['Beach', 'Mountains', 'City', 'Stay home']],
];

/**
 * What happened before the app was linked: `historyPolls` polls, made on the account's phone
 * and by members in turn, across the chats, each with a vote of most of its chat's members
 * and, on every other poll, the account's own vote from its phone. Seeded (the ids and secrets
 * are random, like any poll's); the times are in the hour before `now`.
 */
export function planHistory(
  world: World,
  options: Pick<SandboxOptions, 'seed' | 'historyPolls'>,
  now: number,
): { polls: PastPoll[]; votes: LedgerVote[] } {
  const random = new Random(deriveSeed(options.seed, 'history'));
  const polls: PastPoll[] = [];
  const votes: LedgerVote[] = [];
  const me: Person = { ...world.me, mappingKnown: true };
  for (let i = 0; i < options.historyPolls; i++) {
    const chat = world.chats[i % world.chats.length]!;
    const creator = i % 2 === 1 ? chat.members[0] : undefined;
    const [name, pollOptions] = QUESTIONS[i % QUESTIONS.length]!;
    const sentAt = now - 3_600_000 + i * 60_000;
    const poll: PastPoll['poll'] = {
      id: newMessageId(),
      chatId: chat.id,
      name,
      options: pollOptions,
      selectableCount: i % 3 === 0 ? 1 : 0,
      messageSecret: randomBytes(32).toString('base64'),
      creatorPn: (creator ?? me).pn,
      creatorLid: (creator ?? me).lid,
      origin: creator ? 'member' : 'phone',
      history: true,
      sentAt,
    };
    polls.push({ poll, creator });
    const voters = chat.members.filter(() => random.chance(0.75));
    if (i % 2 === 0) voters.push(me);
    voters.forEach((voter, n) => {
      const signer = (form: 'pn' | 'lid', p: Person) => (form === 'lid' ? p.lid : p.pn);
      votes.push({
        pollId: poll.id,
        chatId: chat.id,
        messageId: newMessageId(),
        voterPn: voter.pn,
        voterLid: voter.lid,
        voterId: canonicalId(voter),
        creatorJid: signer(chat.signing.creator, creator ?? me),
        voterJid: signer(chat.signing.voter, voter),
        selectedOptions: select(random, poll),
        senderTimestampMs: sentAt + (n + 1) * 1_000,
        redelivery: false,
        history: true,
      });
    });
  }
  return { polls, votes };
}
