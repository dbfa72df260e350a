import { randomBytes, randomInt } from 'node:crypto';
import { optionHash } from '@pollmasters/shared/node';
import type { VoteKeyContext } from '../../packages/worker/src/votes/encryptVote.js';
import { encryptVote } from '../../packages/worker/src/votes/encryptVote.js';
import type { Sealed } from './batch.js';

/** Random votes for the prototype's checks and timings, as ./packages/worker/test builds them. */

const digits = (min: number, max: number): string => {
  let s = '';
  for (let i = randomInt(min, max + 1); i > 0; i--) s += randomInt(10);
  return s;
};
const jid = (): string =>
  randomInt(2) ? `${digits(8, 15)}@s.whatsapp.net` : `${digits(12, 15)}@lid`;
/** Any UTF-16 text: lone surrogates and all, as the oracle test draws them. */
const anyText = (): string =>
  String.fromCharCode(...Array.from({ length: randomInt(0, 40) }, () => randomInt(0x10000)));

export interface Poll {
  id: string;
  secret: Uint8Array;
  creator: string;
}

export const polls = (count: number, unicode = false): Poll[] =>
  Array.from({ length: count }, () => ({
    id:
      unicode && randomInt(2) ? anyText() : `3EB0${randomBytes(10).toString('hex').toUpperCase()}`,
    secret: randomBytes(32),
    creator: unicode && randomInt(4) === 0 ? anyText() : jid(),
  }));

export interface Drawn {
  enc: Sealed;
  ctx: VoteKeyContext;
  /** The selected option hashes, hex. */
  hashes: string[];
}

/** A vote on one of the polls, by a random voter, for 0 to `most` options. */
export const draw = (from: readonly Poll[], most: number): Drawn => {
  const poll = from[randomInt(from.length)]!;
  const ctx = {
    pollMsgId: poll.id,
    pollEncKey: poll.secret,
    pollCreatorJid: poll.creator,
    voterJid: jid(),
  };
  const hashes = Array.from({ length: randomInt(0, most + 1) }, () => optionHash(digits(1, 9)));
  return { enc: encryptVote(hashes, ctx), ctx, hashes };
};
