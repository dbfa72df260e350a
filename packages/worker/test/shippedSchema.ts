/*
 * Tables as released versions of the database shipped them, for the migration tests: written
 * out here, not taken from `migrations`, so that editing a shipped migration cannot change
 * what the tests migrate.
 */

/** `polls` as versions 1 and 2 had it. */
export const V1_POLLS = `
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
`;

/** `votes` as version 1 had it. */
export const V1_VOTES = `
  CREATE TABLE votes (
    poll_id TEXT NOT NULL REFERENCES polls (id),
    voter TEXT NOT NULL,
    name TEXT,
    selected TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    message_id TEXT,
    PRIMARY KEY (poll_id, voter)
  ) WITHOUT ROWID;
`;

/** `vote_log` as version 2 had it. */
export const V2_VOTE_LOG = `
  CREATE TABLE vote_log (
    seq INTEGER PRIMARY KEY,
    poll_id TEXT NOT NULL REFERENCES polls (id),
    voter TEXT NOT NULL,
    name TEXT,
    selected TEXT,
    timestamp_ms INTEGER NOT NULL,
    message_id TEXT
  );
`;

/**
 * Inserts poll P ("Lunch?", one choice among `options`) as versions 1 to 5 stored a poll: its
 * counters in its own row (version 6 moved them to `poll_counters`).
 */
export const insertOldPoll = (
  db: { prepare(sql: string): { run(...params: unknown[]): unknown } },
  chatId: string,
  options: readonly { name: string; hash: string }[],
  counters: { unknownOptionVotes: number; version: number },
): void => {
  db.prepare(
    `INSERT INTO polls (id, chat_id, question, options, selectable_count, created_at, secret,
       creator_jids, message, unknown_option_votes, version)
     VALUES ('P', ?, 'Lunch?', ?, 1, 1, NULL, '[]', x'01', ?, ?)`,
  ).run(chatId, JSON.stringify(options), counters.unknownOptionVotes, counters.version);
};
