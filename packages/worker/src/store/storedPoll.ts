import {
  type Poll,
  type PollOption,
  Selections,
  type StringPool,
  VoterTable,
} from '@pollmasters/shared';

/** A poll as the worker keeps it: the public fields plus what decryption needs. */
export type StoredPoll = Omit<Poll, 'voters'> & {
  /** The poll's `messageSecret`; null when the creation message carried none. */
  secret: Uint8Array | null;
  /** JIDs that may have signed as the creator (own PN and LID for our polls). */
  creatorJids: string[];
  /** The creation message (proto WebMessageInfo bytes), for Baileys' `getMessage`. */
  message: Uint8Array;
  /** Every voter's newest vote, withdrawn ones included (in columns: a poll may hold many). */
  voters: VoterTable;
  /** Its options as votes are counted against them (one shared array per selection). */
  selections: Selections;
};

/** A poll as it is first stored: before any vote. */
export type NewPoll = Omit<StoredPoll, 'voters' | 'unknownOptionVotes' | 'version' | 'selections'>;

/** A row of the `polls` table with its counters (./database.ts: `poll_counters` on SQLite). */
export interface PollRow {
  id: string;
  chat_id: string;
  question: string;
  options: string;
  selectable_count: number;
  created_at: number;
  secret: Buffer | null;
  creator_jids: string;
  message: Buffer;
  unknown_option_votes: number;
  version: number;
  creator_jid: string;
  creator_from_me: number;
}

/**
 * A poll as its row stores it, before its votes are replayed; its voters' ids and names are
 * kept in `pool` (the session's: the same people vote in many polls).
 */
export const storedPollOf = (row: PollRow, pool: StringPool): StoredPoll => {
  const options = JSON.parse(row.options) as PollOption[];
  return {
    id: row.id,
    chatId: row.chat_id,
    creator: { jid: row.creator_jid, fromMe: row.creator_from_me === 1 },
    question: row.question,
    options,
    selectableCount: row.selectable_count,
    createdAt: row.created_at,
    secret: row.secret ? new Uint8Array(row.secret) : null,
    creatorJids: JSON.parse(row.creator_jids) as string[],
    message: new Uint8Array(row.message),
    unknownOptionVotes: row.unknown_option_votes,
    version: row.version,
    voters: new VoterTable(pool),
    selections: new Selections(options.map((o) => o.hash)),
  };
};

/** The named parameters of a new poll's INSERT. */
export const rowParamsOf = (p: NewPoll) => ({
  id: p.id,
  chatId: p.chatId,
  question: p.question,
  options: JSON.stringify(p.options),
  selectableCount: p.selectableCount,
  createdAt: p.createdAt,
  secret: p.secret ? Buffer.from(p.secret) : null,
  creatorJids: JSON.stringify(p.creatorJids),
  message: Buffer.from(p.message),
  creatorJid: p.creator.jid,
  creatorFromMe: p.creator.fromMe ? 1 : 0,
});
