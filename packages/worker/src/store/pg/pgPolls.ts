import type { PollBackend } from '../pollBackend.js';
import { type PollRow, rowParamsOf } from '../storedPoll.js';
import { COMPACT_SLACK, type LoggedVote, REPLAY_CHUNK } from '../voteLog.js';
import type { PgSession } from './pgSession.js';

/**
 * A selection's JSON for PostgreSQL's vote log, made once per array: a poll's voters share one array
 * per selection (`Selections`), so most votes need no JSON.stringify of their own.
 */
const selectionJsons = new WeakMap<readonly string[], string>();
const selectionJson = (selected: readonly string[]): string => {
  let json = selectionJsons.get(selected);
  if (json === undefined) {
    json = JSON.stringify(selected);
    selectionJsons.set(selected, json);
  }
  return json;
};

/** PollStore's backend on PostgreSQL: the same tables as SQLite's, keyed by session too. */
export const pgPollBackend = (pg: PgSession): PollBackend => {
  const sid = pg.sessionId;
  return {
    polls: () =>
      pg.read<PollRow>(
        `SELECT id, chat_id, question, options, selectable_count, created_at, secret, creator_jids,
           message, unknown_option_votes, version, creator_jid, creator_from_me::int AS creator_from_me
         FROM polls WHERE session_id = $1`,
        [sid],
      ),
    replay: async (apply, liveVotes) => {
      const row: LoggedVote = { pollId: '', voter: '', name: null, selected: null, timestampMs: 0 };
      const parsed = new Map<string, readonly string[]>();
      let rows = 0;
      for (let after = 0; ; ) {
        const got = await pg.read<{
          seq: number;
          poll_id: string;
          voter: string;
          name: string | null;
          selected: string | null;
          timestamp_ms: number;
        }>(
          `SELECT seq, poll_id, voter, name, selected, timestamp_ms FROM vote_log
           WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT ${REPLAY_CHUNK}`,
          [sid, after],
        );
        for (const r of got) {
          row.pollId = r.poll_id;
          row.voter = r.voter;
          row.name = r.name;
          if (r.selected === null) row.selected = null;
          else {
            let selected = parsed.get(r.selected);
            if (!selected) {
              selected = JSON.parse(r.selected) as string[];
              parsed.set(r.selected, selected);
            }
            row.selected = selected;
          }
          row.timestampMs = r.timestamp_ms;
          apply(row);
        }
        rows += got.length;
        if (got.length < REPLAY_CHUNK) break;
        after = got[got.length - 1]!.seq;
      }
      if (rows > 2 * liveVotes() + COMPACT_SLACK) {
        await pg.transaction(() => {
          pg.exec(
            `DELETE FROM vote_log WHERE session_id = $1 AND seq NOT IN
               (SELECT max(seq) FROM vote_log WHERE session_id = $1 GROUP BY poll_id, voter)`,
            [sid],
          );
          pg.exec('DELETE FROM vote_log WHERE session_id = $1 AND selected IS NULL', [sid]);
        });
      }
    },
    transaction: (build) => pg.transaction(build),
    insertPoll: (p) => {
      const r = rowParamsOf(p);
      pg.exec(
        `INSERT INTO polls (session_id, id, chat_id, question, options, selectable_count,
           created_at, secret, creator_jids, message, creator_jid, creator_from_me)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`,
        [
          sid,
          r.id,
          r.chatId,
          r.question,
          r.options,
          r.selectableCount,
          r.createdAt,
          r.secret,
          r.creatorJids,
          r.message,
          r.creatorJid,
          r.creatorFromMe === 1,
        ],
      );
    },
    setCreators: (id, jids) => {
      pg.exec('UPDATE polls SET creator_jids = $3 WHERE session_id = $1 AND id = $2', [
        sid,
        id,
        JSON.stringify(jids),
      ]);
    },
    appendVotes: (entries) => {
      if (entries.length === 0) return;
      // One statement per batch: the columns as arrays, unnested in order (seq follows it).
      const cols: unknown[][] = [[], [], [], [], [], []];
      for (const { pollId, voter, vote, messageId } of entries) {
        cols[0]!.push(pollId);
        cols[1]!.push(voter);
        cols[2]!.push(vote?.name ?? null);
        cols[3]!.push(vote ? selectionJson(vote.selected) : null);
        cols[4]!.push(vote?.timestampMs ?? 0);
        cols[5]!.push(vote ? (messageId ?? null) : null);
      }
      pg.exec(
        `INSERT INTO vote_log (session_id, poll_id, voter, name, selected, timestamp_ms, message_id)
         SELECT $1, p, v, n, s, t, m FROM unnest($2::text[], $3::text[], $4::text[], $5::text[],
           $6::bigint[], $7::text[]) WITH ORDINALITY AS u(p, v, n, s, t, m, i) ORDER BY i`,
        [sid, ...cols],
      );
    },
    updatePoll: (id, unknown, version) => {
      pg.exec(
        'UPDATE polls SET unknown_option_votes = $3, version = $4 WHERE session_id = $1 AND id = $2',
        [sid, id, unknown, version],
      );
    },
  };
};
