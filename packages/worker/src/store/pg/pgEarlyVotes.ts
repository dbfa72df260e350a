import type { Logger } from '@pollmasters/shared';
import type { WAMessage } from '@whiskeysockets/baileys';
import {
  decodeEarlyVote,
  type EarlyVote,
  type EarlyVoteRow,
  type EarlyVoteStore,
  encodeEarlyVote,
} from '../earlyVotes.js';
import type { PgSession } from './pgSession.js';

/**
 * Early votes in PostgreSQL. What the keeper decides on (which wait, for which poll, since
 * when) is indexed in memory, loaded at open, so that its decisions need no round trip; the
 * messages stay in the database until their poll comes. Sequence numbers are given here, in
 * arrival order.
 */
export class PgEarlyVoteStore implements EarlyVoteStore {
  /** By seq, in arrival order. */
  private readonly index = new Map<number, EarlyVoteRow>();
  private lastSeq = 0;

  private constructor(
    private readonly pg: PgSession,
    private readonly logger: Logger,
  ) {}

  static async open(pg: PgSession, logger: Logger): Promise<PgEarlyVoteStore> {
    const store = new PgEarlyVoteStore(pg, logger);
    const rows = await pg.read<{
      seq: number;
      poll_id: string;
      chat_id: string | null;
      message_id: string | null;
      arrived_at: number;
    }>(
      `SELECT seq, poll_id, chat_id, message_id, arrived_at FROM early_votes
       WHERE session_id = $1 ORDER BY seq`,
      [pg.sessionId],
    );
    for (const r of rows) {
      store.index.set(r.seq, {
        seq: r.seq,
        pollId: r.poll_id,
        chatId: r.chat_id,
        messageId: r.message_id,
        arrivedAt: r.arrived_at,
      });
      store.lastSeq = r.seq;
    }
    return store;
  }

  get size(): number {
    return this.index.size;
  }

  add(pollId: string, msg: WAMessage, arrivedAt: number): void {
    const seq = ++this.lastSeq;
    const chatId = msg.key.remoteJid ?? null;
    const messageId = msg.key.id ?? null;
    this.index.set(seq, { seq, pollId, chatId, messageId, arrivedAt });
    const { key, message } = encodeEarlyVote(msg);
    this.settle(
      this.pg.exec(
        `INSERT INTO early_votes (session_id, seq, poll_id, chat_id, message_id, arrived_at, key, message)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [this.pg.sessionId, seq, pollId, chatId, messageId, arrivedAt, key, message],
      ),
    );
  }

  async forPoll(pollId: string): Promise<EarlyVote[]> {
    // The index knows without a round trip whether any waits (almost every new poll: none).
    let waiting = false;
    for (const row of this.index.values()) {
      if (row.pollId === pollId) {
        waiting = true;
        break;
      }
    }
    if (!waiting) return [];
    const rows = await this.pg.read<{ seq: number; key: string; message: Buffer }>(
      'SELECT seq, key, message FROM early_votes WHERE session_id = $1 AND poll_id = $2 ORDER BY seq',
      [this.pg.sessionId, pollId],
    );
    const votes: EarlyVote[] = [];
    for (const r of rows) {
      const row = this.index.get(r.seq);
      if (row) votes.push({ ...row, msg: decodeEarlyVote(r.key, r.message) });
    }
    return votes;
  }

  pollIds(): string[] {
    return [...new Set([...this.index.values()].map((r) => r.pollId))];
  }

  remove(seq: number): void {
    if (!this.index.delete(seq)) return;
    this.settle(
      this.pg.exec('DELETE FROM early_votes WHERE session_id = $1 AND seq = $2', [
        this.pg.sessionId,
        seq,
      ]),
    );
  }

  takeOldest(n: number): EarlyVoteRow[] {
    return this.take([...this.index.values()].slice(0, n));
  }

  takeArrivedBefore(time: number): EarlyVoteRow[] {
    return this.take([...this.index.values()].filter((r) => r.arrivedAt < time));
  }

  oldestArrival(): number | undefined {
    let oldest: number | undefined;
    for (const r of this.index.values())
      if (oldest === undefined || r.arrivedAt < oldest) oldest = r.arrivedAt;
    return oldest;
  }

  private take(rows: EarlyVoteRow[]): EarlyVoteRow[] {
    if (rows.length === 0) return [];
    for (const r of rows) this.index.delete(r.seq);
    const seqs = rows.map((r) => r.seq);
    this.settle(
      this.pg.exec('DELETE FROM early_votes WHERE session_id = $1 AND seq = ANY($2::bigint[])', [
        this.pg.sessionId,
        seqs,
      ]),
    );
    return rows;
  }

  /** A write of its own: committed in order; a failure is logged (the session goes on). */
  private settle(write: Promise<void> | undefined): void {
    write?.catch((err: unknown) =>
      this.logger.error({ err }, 'could not store an early vote change'),
    );
  }
}
