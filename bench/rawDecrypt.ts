import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encryptPollVote, syntheticPerson } from '@pollmasters/worker/sandbox';
import {
  decryptPollVote,
  getAggregateVotesInPollMessage,
  type proto,
} from '@whiskeysockets/baileys';
import Database from 'better-sqlite3';
import { OPTIONS } from './protocol.js';

const CREATOR = '100000000000001@lid';

interface Vote {
  voterJid: string;
  enc: { encPayload: Buffer; encIv: Buffer };
}

/** One poll and `voters` real encrypted votes on it, one per voter, LID-signed. */
function encryptedPoll(voters: number) {
  const pollId = `3EB0${randomBytes(9).toString('hex').toUpperCase()}`;
  const secret = randomBytes(32);
  const votes: Vote[] = [];
  for (let i = 0; i < voters; i++) {
    const voterJid = syntheticPerson(7, i).lid;
    const chosen = [OPTIONS[i % OPTIONS.length]!];
    votes.push({
      voterJid,
      enc: encryptPollVote(chosen, {
        pollMsgId: pollId,
        pollEncKey: secret,
        pollCreatorJid: CREATOR,
        voterJid,
      }),
    });
  }
  return { pollId, secret, votes };
}

/**
 * Votes per second of Baileys' `decryptPollVote` alone, over `rounds` passes of the poll, after
 * one untimed pass (so that the figure is the compiled code's, as the pipeline's is).
 */
export function rawDecrypt(voters: number, rounds: number): { perSec: number } {
  const { pollId, secret, votes } = encryptedPoll(voters);
  let started = 0;
  for (let r = -1; r < rounds; r++) {
    if (r === 0) started = performance.now();
    for (const vote of votes) {
      decryptPollVote(vote.enc, {
        pollCreatorJid: CREATOR,
        pollMsgId: pollId,
        pollEncKey: secret,
        voterJid: vote.voterJid,
      });
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return { perSec: (voters * rounds) / seconds };
}

/**
 * The recipe found in most WhatsApp poll tools, on one poll of `voters` voters: for every vote,
 * decrypt it, replace the voter's entry in the list of poll updates, recount the whole list
 * with Baileys' `getAggregateVotesInPollMessage`, and rewrite the poll's row in SQLite (its
 * own transaction). The database gets the same pragmas as ours (WAL, synchronous NORMAL), so
 * only the recipe differs.
 */
export function naiveRecipe(voters: number): { perSec: number; exact: boolean } {
  const { pollId, secret, votes } = encryptedPoll(voters);
  const dir = mkdtempSync(join(tmpdir(), 'pollmasters-naive-'));
  const db = new Database(join(dir, 'naive.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE polls (id TEXT PRIMARY KEY, results TEXT NOT NULL)');
    db.prepare('INSERT INTO polls (id, results) VALUES (?, ?)').run(pollId, '[]');
    const rewrite = db.prepare('UPDATE polls SET results = ? WHERE id = ?');
    const message: proto.IMessage = {
      pollCreationMessage: {
        name: 'Naive',
        options: OPTIONS.map((optionName) => ({ optionName })),
      },
    };
    const updates = new Map<string, proto.IPollUpdate>();
    let last: ReturnType<typeof getAggregateVotesInPollMessage> = [];

    const started = performance.now();
    for (const [i, vote] of votes.entries()) {
      const decrypted = decryptPollVote(vote.enc, {
        pollCreatorJid: CREATOR,
        pollMsgId: pollId,
        pollEncKey: secret,
        voterJid: vote.voterJid,
      });
      updates.set(vote.voterJid, {
        pollUpdateMessageKey: { remoteJid: 'group@g.us', participant: vote.voterJid, id: `v${i}` },
        vote: decrypted,
        senderTimestampMs: Date.now(),
      });
      last = getAggregateVotesInPollMessage(
        { message, pollUpdates: [...updates.values()] },
        CREATOR,
      );
      rewrite.run(JSON.stringify(last), pollId);
    }
    const seconds = (performance.now() - started) / 1000;
    const counted = last.reduce((n, option) => n + option.voters.length, 0);
    return { perSec: voters / seconds, exact: counted === voters };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
