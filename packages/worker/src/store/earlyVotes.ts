import { proto, type WAMessage } from '@whiskeysockets/baileys';
import type { Db } from './database.js';

/** An early vote as a row names it: enough to reject it without reading the message. */
export interface EarlyVoteRow {
  seq: number;
  pollId: string;
  chatId: string | null;
  messageId: string | null;
  /** When it arrived, ms since the epoch. */
  arrivedAt: number;
}

/** An early vote with its message, as it came. */
export interface EarlyVote extends EarlyVoteRow {
  msg: WAMessage;
}

interface Row {
  seq: number;
  poll_id: string;
  chat_id: string | null;
  message_id: string | null;
  arrived_at: number;
}

const rowOf = (r: Row): EarlyVoteRow => ({
  seq: r.seq,
  pollId: r.poll_id,
  chatId: r.chat_id,
  messageId: r.message_id,
  arrivedAt: r.arrived_at,
});

const COLUMNS = 'seq, poll_id, chat_id, message_id, arrived_at';

/** The protobuf bytes and key JSON an early vote is kept as. */
export const encodeEarlyVote = (msg: WAMessage): { key: string; message: Buffer } => ({
  key: JSON.stringify(msg.key),
  message: Buffer.from(proto.WebMessageInfo.encode(msg as proto.IWebMessageInfo).finish()),
});

/** An early vote's message, as it came, from what `encodeEarlyVote` made. */
export const decodeEarlyVote = (key: string, message: Uint8Array): WAMessage => {
  const msg = proto.WebMessageInfo.decode(message) as WAMessage;
  msg.key = JSON.parse(key) as WAMessage['key'];
  return msg;
};

/**
 * Vote messages whose poll is not known yet, in the order they arrived (one implementation per
 * engine). Writes outside a transaction commit at once on SQLite, in order on PostgreSQL;
 * `remove` is called inside the transaction that stores the vote's outcome.
 */
export interface EarlyVoteStore {
  /** How many wait. */
  readonly size: number;
  /** Keeps a vote message for the poll `pollId`, arrived at `arrivedAt`. */
  add(pollId: string, msg: WAMessage, arrivedAt: number): void;
  /** The votes waiting for `pollId`, in the order they arrived, as they came. */
  forPoll(pollId: string): EarlyVote[] | Promise<EarlyVote[]>;
  /** Ids of the polls that votes wait for. */
  pollIds(): string[];
  remove(seq: number): void;
  /** Removes and returns the `n` that arrived first. */
  takeOldest(n: number): EarlyVoteRow[];
  /** Removes and returns those that arrived before `time`, oldest first. */
  takeArrivedBefore(time: number): EarlyVoteRow[];
  /** When the one waiting longest arrived; undefined when none waits. */
  oldestArrival(): number | undefined;
}

/**
 * The `early_votes` table (./database.ts, migration 3): vote messages whose poll is not known
 * yet, in the order they arrived. A message is kept whole, as protobuf bytes, and its key as
 * JSON beside them: Baileys' key carries JIDs (`participantAlt`, `remoteJidAlt`) that the
 * protobuf MessageKey has no field for, and decryption may need them.
 */
export class SqliteEarlyVoteStore implements EarlyVoteStore {
  private count: number;
  private readonly insert;
  private readonly deleteOne;
  private readonly byPoll;
  private readonly oldestRows;
  private readonly arrivedBefore;
  private readonly firstArrival;

  constructor(private readonly db: Db) {
    this.count = (db.prepare('SELECT count(*) AS n FROM early_votes').get() as { n: number }).n;
    this.insert = db.prepare<[string, string | null, string | null, number, string, Buffer]>(
      `INSERT INTO early_votes (poll_id, chat_id, message_id, arrived_at, key, message)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.deleteOne = db.prepare<[number]>('DELETE FROM early_votes WHERE seq = ?');
    this.byPoll = db.prepare<[string], Row & { key: string; message: Buffer }>(
      `SELECT ${COLUMNS}, key, message FROM early_votes WHERE poll_id = ? ORDER BY seq`,
    );
    this.oldestRows = db.prepare<[number], Row>(
      `SELECT ${COLUMNS} FROM early_votes ORDER BY seq LIMIT ?`,
    );
    this.arrivedBefore = db.prepare<[number], Row>(
      `SELECT ${COLUMNS} FROM early_votes WHERE arrived_at < ? ORDER BY seq`,
    );
    this.firstArrival = db.prepare<[], { t: number | null }>(
      'SELECT min(arrived_at) AS t FROM early_votes',
    );
  }

  /** How many wait. */
  get size(): number {
    return this.count;
  }

  /** Keeps a vote message for the poll `pollId`, arrived at `arrivedAt`. */
  add(pollId: string, msg: WAMessage, arrivedAt: number): void {
    const { key, message } = encodeEarlyVote(msg);
    this.insert.run(pollId, msg.key.remoteJid ?? null, msg.key.id ?? null, arrivedAt, key, message);
    this.count += 1;
  }

  /** The votes waiting for `pollId`, in the order they arrived, as they came. */
  forPoll(pollId: string): EarlyVote[] {
    return this.byPoll
      .all(pollId)
      .map((r) => ({ ...rowOf(r), msg: decodeEarlyVote(r.key, r.message) }));
  }

  /** Ids of the polls that votes wait for. */
  pollIds(): string[] {
    return this.db
      .prepare<[], { poll_id: string }>('SELECT DISTINCT poll_id FROM early_votes')
      .all()
      .map((r) => r.poll_id);
  }

  remove(seq: number): void {
    this.count -= this.deleteOne.run(seq).changes;
  }

  /** Removes and returns the `n` that arrived first. */
  takeOldest(n: number): EarlyVoteRow[] {
    return this.take(this.oldestRows.all(n));
  }

  /** Removes and returns those that arrived before `time`, oldest first. */
  takeArrivedBefore(time: number): EarlyVoteRow[] {
    return this.take(this.arrivedBefore.all(time));
  }

  /** When the one waiting longest arrived; undefined when none waits. */
  oldestArrival(): number | undefined {
    return this.firstArrival.get()?.t ?? undefined;
  }

  private take(rows: Row[]): EarlyVoteRow[] {
    if (rows.length === 0) return [];
    this.db.transaction(() => {
      for (const r of rows) this.remove(r.seq);
    })();
    return rows.map(rowOf);
  }
}
