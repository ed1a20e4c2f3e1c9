-- The schema of `login::session::PostgresStore` (version 1). `PostgresStore::migrate` runs it
-- (idempotent, under a transaction-scoped advisory lock, recorded in `login_schema`); an app
-- that manages its schema with its own migration tool copies this file into its migrations.

CREATE TABLE IF NOT EXISTS login_schema (
    version integer PRIMARY KEY
);

-- One row per live session. `data` is the session as JSON (`login::session::Session`); the
-- other columns are what the statements look up, lock and sweep by.
CREATE TABLE IF NOT EXISTS login_sessions (
    sid text PRIMARY KEY,
    subject text NOT NULL,
    created_at bigint NOT NULL,
    -- The earlier of the refresh token's expiry and the session's absolute end: the session
    -- is live while this is in the future.
    live_until bigint NOT NULL,
    -- The SHA-256 of the current refresh token.
    current bytea NOT NULL UNIQUE,
    -- The last rotation, within its grace window: the token it consumed, its successor (in
    -- clear, for the window only), the end of the window.
    grace_from bytea,
    grace_token text,
    grace_until bigint,
    data text NOT NULL
);
CREATE INDEX IF NOT EXISTS login_sessions_subject ON login_sessions (subject, created_at, sid);
CREATE INDEX IF NOT EXISTS login_sessions_live_until ON login_sessions (live_until);

-- Rotated refresh tokens (reuse detection), the most recent 64 of each session.
CREATE TABLE IF NOT EXISTS login_rotated (
    hash bytea PRIMARY KEY,
    sid text NOT NULL REFERENCES login_sessions (sid) ON DELETE CASCADE,
    seq bigserial NOT NULL
);
CREATE INDEX IF NOT EXISTS login_rotated_sid ON login_rotated (sid, seq);

-- "Log out everywhere": each subject's logout generation, kept until its revocation's `until`.
CREATE TABLE IF NOT EXISTS login_logouts (
    subject text PRIMARY KEY,
    generation bigint NOT NULL,
    until bigint NOT NULL
);

-- The revocations in force (`login::session::Revocation` as JSON), each until its `until`.
CREATE TABLE IF NOT EXISTS login_revocations (
    id bigserial PRIMARY KEY,
    until bigint NOT NULL,
    body text NOT NULL
);
CREATE INDEX IF NOT EXISTS login_revocations_until ON login_revocations (until);

-- The login throttle's failure counters.
CREATE TABLE IF NOT EXISTS login_throttle (
    key text PRIMARY KEY,
    failures bigint NOT NULL,
    last bigint NOT NULL,
    expires bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS login_throttle_expires ON login_throttle (expires);

INSERT INTO login_schema (version) VALUES (1) ON CONFLICT DO NOTHING;
