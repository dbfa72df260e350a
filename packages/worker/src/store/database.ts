import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

/**
 * Versioned migrations: entry n brings the schema from version n to n + 1. Append only;
 * never edit a migration that has shipped.
 */
export const migrations: readonly string[] = [
  `
  CREATE TABLE auth_creds (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value TEXT NOT NULL
  );
  CREATE TABLE auth_keys (
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (type, id)
  ) WITHOUT ROWID;
  CREATE TABLE chats (
    id TEXT PRIMARY KEY,
    name TEXT,
    is_group INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    name TEXT
  ) WITHOUT ROWID;
  CREATE TABLE polls (
    id TEXT PRIMARY KEY,
    chat_id TEXT NOT NULL,
    question TEXT NOT NULL,
    options TEXT NOT NULL,
    selectable_count INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    secret BLOB,
    creator_jids TEXT NOT NULL,
    message BLOB NOT NULL,
    unknown_option_votes INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE TABLE votes (
    poll_id TEXT NOT NULL REFERENCES polls (id),
    voter TEXT NOT NULL,
    name TEXT,
    selected TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    message_id TEXT,
    PRIMARY KEY (poll_id, voter)
  ) WITHOUT ROWID;
  CREATE TABLE chat_pairs (
    chat_id TEXT PRIMARY KEY,
    creator_index INTEGER NOT NULL,
    voter_source TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // 2: votes as an append-only log. Each stored vote is a new row at the end of the table (a
  // vote for any poll dirties the same last page, instead of one page per poll in a
  // (poll_id, voter) B-tree); the latest row of a (poll, voter) is their vote, and a row with
  // `selected` NULL forgets the voter (their other JID took their vote over). PollStore replays
  // the log at start and compacts it. The view keeps "each voter's current vote" one query.
  `
  CREATE TABLE vote_log (
    seq INTEGER PRIMARY KEY,
    poll_id TEXT NOT NULL REFERENCES polls (id),
    voter TEXT NOT NULL,
    name TEXT,
    selected TEXT,
    timestamp_ms INTEGER NOT NULL,
    message_id TEXT
  );
  INSERT INTO vote_log (poll_id, voter, name, selected, timestamp_ms, message_id)
    SELECT poll_id, voter, name, selected, timestamp_ms, message_id FROM votes
    ORDER BY poll_id, voter;
  DROP TABLE votes;
  CREATE VIEW votes AS
    SELECT poll_id, voter, name, selected, timestamp_ms, message_id FROM vote_log
    WHERE seq IN (SELECT max(seq) FROM vote_log GROUP BY poll_id, voter)
      AND selected IS NOT NULL;
  `,
  // 3: every poll the account can see. A poll says who created it (its canonical JID, and
  // whether it is the account): the polls of earlier versions are all the account's own, their
  // first creator JID the canonical one (our PN when known, else our LID). Votes whose poll is
  // not known yet wait in `early_votes` (./earlyVotes.ts), in arrival order (`seq`).
  `
  ALTER TABLE polls ADD COLUMN creator_jid TEXT NOT NULL DEFAULT '';
  ALTER TABLE polls ADD COLUMN creator_from_me INTEGER NOT NULL DEFAULT 1;
  UPDATE polls SET creator_jid = coalesce(json_extract(creator_jids, '$[0]'), '');
  CREATE TABLE early_votes (
    seq INTEGER PRIMARY KEY,
    poll_id TEXT NOT NULL,
    chat_id TEXT,
    message_id TEXT,
    arrived_at INTEGER NOT NULL,
    key TEXT NOT NULL,
    message BLOB NOT NULL
  );
  CREATE INDEX early_votes_by_poll ON early_votes (poll_id, seq);
  CREATE INDEX early_votes_by_arrival ON early_votes (arrived_at);
  `,
  // 4: webhooks (../webhooks/). Endpoints with their signing secret; the outbox: one row per
  // event (its body as signed, its `webhook-id`), written in the transaction of what it reports,
  // and one delivery row per endpoint subscribed to it, sent in `id` order per endpoint.
  `
  CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    paused INTEGER NOT NULL,
    secret TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE webhook_events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    body TEXT NOT NULL
  );
  CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    endpoint_id TEXT NOT NULL,
    event_seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_code INTEGER,
    last_error TEXT,
    delivered_at INTEGER
  );
  CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (status, endpoint_id, id);
  `,
  // 5: the vote log as one row per committed batch (./voteLog.ts): a batch of 500 votes is one
  // B-tree insert instead of 500. `votes` is JSON: `s` the batch's distinct selections (arrays
  // of option hashes), `v` one [poll_id, voter, name, index into s (-1: the voter is forgotten),
  // timestamp_ms, message_id] per vote, in order. The rows of `vote_log` (written before this
  // version; a compaction moves them into batches) come before every batch. `vote_entries`
  // lists both in replay order (`batch` 0 is `vote_log`); `votes` keeps "each voter's current
  // vote" one query.
  `
  CREATE TABLE vote_batches (
    seq INTEGER PRIMARY KEY,
    votes TEXT NOT NULL
  );
  DROP VIEW IF EXISTS votes;
  CREATE VIEW vote_entries AS
    SELECT 0 AS batch, seq AS i, poll_id, voter, name, selected, timestamp_ms, message_id
    FROM vote_log
    UNION ALL
    SELECT b.seq, e.key, e.value ->> 0, e.value ->> 1, e.value ->> 2,
      CASE WHEN e.value ->> 3 < 0 THEN NULL ELSE b.votes -> ('$.s[' || (e.value ->> 3) || ']') END,
      e.value ->> 4, e.value ->> 5
    FROM vote_batches b, json_each(b.votes, '$.v') e;
  CREATE VIEW votes AS
    SELECT poll_id, voter, name, selected, timestamp_ms, message_id FROM (
      SELECT *, row_number() OVER (PARTITION BY poll_id, voter ORDER BY batch DESC, i DESC) AS nth
      FROM vote_entries)
    WHERE nth = 1 AND selected IS NOT NULL;
  `,
  // 6: a poll's counters in a narrow table of their own. Every committed batch updates the
  // counters of each poll it touched; in `polls` that rewrote the poll's whole wide record
  // (options, secret, creation message) and its pages into the WAL, 100 polls' worth per
  // 500-vote batch (docs/performance.md, "Session 9").
  `
  CREATE TABLE poll_counters (
    poll_id TEXT PRIMARY KEY REFERENCES polls (id),
    unknown_option_votes INTEGER NOT NULL,
    version INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO poll_counters (poll_id, unknown_option_votes, version)
    SELECT id, unknown_option_votes, version FROM polls;
  ALTER TABLE polls DROP COLUMN unknown_option_votes;
  ALTER TABLE polls DROP COLUMN version;
  `,
  // 7: batches name their polls once and their timestamps as offsets (./voteBatch.ts): `p` the
  // batch's poll ids, `t` a timestamp, and per vote [index into p, voter, name, index into s,
  // timestamp - t, message id]. Batches written before (no `p`) stay as they are: the log and
  // `vote_entries` (on which `votes` is built) read both.
  `
  DROP VIEW vote_entries;
  CREATE VIEW vote_entries AS
    SELECT 0 AS batch, seq AS i, poll_id, voter, name, selected, timestamp_ms, message_id
    FROM vote_log
    UNION ALL
    SELECT b.seq, e.key,
      CASE WHEN b.votes -> '$.p' IS NULL THEN e.value ->> 0
        ELSE b.votes ->> ('$.p[' || (e.value ->> 0) || ']') END,
      e.value ->> 1, e.value ->> 2,
      CASE WHEN e.value ->> 3 < 0 THEN NULL ELSE b.votes -> ('$.s[' || (e.value ->> 3) || ']') END,
      coalesce(b.votes ->> '$.t', 0) + (e.value ->> 4), e.value ->> 5
    FROM vote_batches b, json_each(b.votes, '$.v') e;
  `,
];

/**
 * Opens (creating if needed) one session's database, owner-only, in WAL mode, and brings
 * its schema up to date in one transaction per migration.
 */
export const openDatabase = (dataDir: string, sessionId: string): Db => {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, `${sessionId}.sqlite`);
  // Create the file owner-only before SQLite does; its WAL and journal inherit the mode.
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // In WAL mode NORMAL loses no committed transaction on a process crash (only on power loss).
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
};

const migrate = (db: Db): void => {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(
      `database schema version ${current} is newer than this PollMasters (${migrations.length})`,
    );
  }
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
};
