/**
 * PostgreSQL migrations: entry n brings the schema from version n to n + 1 (version 1 is the
 * whole of what SQLite's migrations 1 to 4 built). One database holds every session: each
 * per-session table leads its primary key with `session_id`. Append only; never edit a
 * migration that has shipped.
 */
export const pgMigrations: readonly string[] = [
  `
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    record JSONB NOT NULL
  );
  CREATE TABLE session_fences (
    session_id TEXT PRIMARY KEY,
    token BIGINT NOT NULL
  );
  CREATE TABLE auth_creds (
    session_id TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE auth_keys (
    session_id TEXT NOT NULL,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (session_id, type, id)
  );
  CREATE TABLE chats (
    session_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT,
    is_group BOOLEAN NOT NULL,
    PRIMARY KEY (session_id, id)
  );
  CREATE TABLE contacts (
    session_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT,
    PRIMARY KEY (session_id, id)
  );
  CREATE TABLE chat_pairs (
    session_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    creator_index INTEGER NOT NULL,
    voter_source TEXT NOT NULL,
    PRIMARY KEY (session_id, chat_id)
  );
  CREATE TABLE polls (
    session_id TEXT NOT NULL,
    id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    question TEXT NOT NULL,
    options TEXT NOT NULL,
    selectable_count INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    secret BYTEA,
    creator_jids TEXT NOT NULL,
    message BYTEA NOT NULL,
    unknown_option_votes BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 0,
    creator_jid TEXT NOT NULL DEFAULT '',
    creator_from_me BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (session_id, id)
  );
  CREATE TABLE vote_log (
    session_id TEXT NOT NULL,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    poll_id TEXT NOT NULL,
    voter TEXT NOT NULL,
    name TEXT,
    selected TEXT,
    timestamp_ms BIGINT NOT NULL,
    message_id TEXT,
    PRIMARY KEY (session_id, seq),
    FOREIGN KEY (session_id, poll_id) REFERENCES polls (session_id, id)
  );
  CREATE TABLE early_votes (
    session_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    poll_id TEXT NOT NULL,
    chat_id TEXT,
    message_id TEXT,
    arrived_at BIGINT NOT NULL,
    key TEXT NOT NULL,
    message BYTEA NOT NULL,
    PRIMARY KEY (session_id, seq)
  );
  CREATE INDEX early_votes_by_poll ON early_votes (session_id, poll_id, seq);
  CREATE TABLE webhook_endpoints (
    session_id TEXT NOT NULL,
    id TEXT NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    paused BOOLEAN NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, id)
  );
  CREATE TABLE webhook_events (
    session_id TEXT NOT NULL,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
  );
  CREATE TABLE webhook_deliveries (
    session_id TEXT NOT NULL,
    id BIGINT GENERATED ALWAYS AS IDENTITY,
    endpoint_id TEXT NOT NULL,
    event_seq BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    last_code INTEGER,
    last_error TEXT,
    delivered_at BIGINT,
    PRIMARY KEY (session_id, id)
  );
  CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (session_id, status, endpoint_id, id);
  `,
];

/**
 * Every per-session table, children before parents: what purging a session deletes (the
 * registry's `sessions` row and the fence are the API's and the lease's).
 */
export const sessionTables = [
  'vote_log',
  'polls',
  'early_votes',
  'chats',
  'contacts',
  'chat_pairs',
  'auth_keys',
  'auth_creds',
  'webhook_deliveries',
  'webhook_events',
  'webhook_endpoints',
] as const;
