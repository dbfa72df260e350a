import { optionHash } from '@pollmasters/shared/node';
import { decryptPollVote, type proto, toNumber } from '@whiskeysockets/baileys';
import type { LedgerVote } from './ledger.js';
import type { SentPoll } from './store.js';
import { canonicalId, type World, type WorldChat } from './world.js';

/** What the members' phones made of a vote our account sent: counted, or why not. */
export type OwnVoteReading = { vote: LedgerVote } | { problem: string };

/**
 * Reads a vote our account relayed as the members' phones do: with Baileys' own
 * `decryptPollVote`, never from anything in the clear. A phone knows the poll's author as the
 * chat signs it and us as our message reached the chat (our LID in a LID-addressed chat), and
 * tries the other forms after those; the pair that authenticates goes to the ledger, so that
 * tests see which JIDs the account signed with.
 */
export function readOwnVote(
  world: World,
  chat: WorldChat,
  poll: SentPoll | undefined,
  update: proto.Message.IPollUpdateMessage,
  messageId: string,
): OwnVoteReading {
  if (!poll || poll.chatId !== chat.id) {
    return { problem: `no poll ${update.pollCreationMessageKey?.id ?? '(none)'} in ${chat.id}` };
  }
  const enc = update.vote;
  if (!enc?.encPayload?.length || !enc.encIv?.length) return { problem: 'no encrypted vote' };
  const creators =
    chat.signing.creator === 'lid'
      ? [poll.creatorLid, poll.creatorPn]
      : [poll.creatorPn, poll.creatorLid];
  const me = world.me;
  const voters = chat.addressingMode === 'lid' ? [me.lid, me.pn] : [me.pn, me.lid];
  for (const creatorJid of creators) {
    for (const voterJid of voters) {
      let selected: Uint8Array[];
      try {
        const decrypted = decryptPollVote(enc, {
          pollCreatorJid: creatorJid,
          pollMsgId: poll.id,
          pollEncKey: Buffer.from(poll.messageSecret, 'base64'),
          voterJid,
        });
        selected = decrypted.selectedOptions ?? [];
      } catch {
        continue;
      }
      const names = new Map(poll.options.map((name) => [optionHash(name), name]));
      const hexes = selected.map((h) => Buffer.from(h).toString('hex'));
      const unknown = hexes.filter((h) => !names.has(h));
      if (unknown.length) return { problem: `hashes of no option: ${unknown.join(', ')}` };
      const vote: LedgerVote = {
        pollId: poll.id,
        chatId: chat.id,
        messageId,
        voterPn: me.pn,
        voterLid: me.lid,
        voterId: canonicalId({ ...me, mappingKnown: true }),
        creatorJid,
        voterJid,
        selectedOptions: hexes.map((h) => names.get(h)!),
        senderTimestampMs: toNumber(update.senderTimestampMs),
        redelivery: false,
      };
      return { vote };
    }
  }
  return {
    problem: `no pair of ${creators.join('/')} x ${voters.join('/')} authenticates the vote`,
  };
}
